// DurableStore: lab 01's Store made durable with a write-ahead log. Each
// SET and DEL is appended to the log before the map changes; the event loop
// (lab 01's, linked as it is) calls wait_durable() before it sends the
// replies of a batch, and that is where the log is written and synced, once
// for the whole batch. Reads need no log: they come from the map, and their
// replies wait behind the same wait_durable, so no client ever sees a value
// that a crash could still take back.
//
// open() recovers the state from the directory (recovery.h). A background
// thread compacts: once the logs outgrow the live data, it writes a
// checkpoint (checkpoint.h) and removes the logs it covers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "recovery.h"
#include "store.h"
#include "wal_writer.h"

namespace kv::lab02 {

struct DurableOptions {
  std::filesystem::path dir;
  FsyncPolicy fsync = FsyncPolicy::kAlways;
  // Compact once the logs since the checkpoint hold more than both of:
  // compact_min_bytes, and compact_ratio times the last checkpoint's size
  // (the live data, as of then). Redis's auto-aof-rewrite works the same.
  uint64_t compact_min_bytes = 64u << 20;
  double compact_ratio = 2.0;
};

class DurableStore : public lab01::Store {
 public:
  static Result<std::unique_ptr<DurableStore>> open(
      const DurableOptions& options);
  ~DurableStore() override;  // close()

  void set(std::string key, std::string value) override;
  bool erase(std::string_view key) override;
  void wait_durable() override;

  // Graceful stop: abandons a compaction in progress (safe at any step),
  // syncs the log whatever the policy, stops the threads. Idempotent.
  void close();

  const Recovered& recovered() const { return recovered_; }
  uint64_t compactions() const { return compactions_.load(); }

 private:
  explicit DurableStore(const DurableOptions& options);
  Status start();  // recovery, then the writer and the threads
  // Appends record to the log and adds its bytes to log_bytes_. Caller
  // holds write_mu_.
  void log_locked(const Record& record) KV_REQUIRES(write_mu_);
  // Wakes the compaction thread once log_bytes_ passes the threshold.
  void compact_if_due() KV_REQUIRES(write_mu_);
  void compaction_loop();
  void compact();
  void everysec_loop(std::stop_token stop);

  const DurableOptions options_;
  Recovered recovered_;                // the LOCK stays held while this lives
  std::unique_ptr<WalWriter> writer_;  // set by start()

  // Held across "append to the log, change the map", so the log's order is
  // the map's order. Reads do not take it.
  std::mutex write_mu_;
  std::string encoded_ KV_GUARDED_BY(write_mu_);  // reused buffer
  uint64_t log_bytes_ KV_GUARDED_BY(write_mu_) = 0;
  uint64_t checkpoint_bytes_ KV_GUARDED_BY(write_mu_) = 0;

  std::mutex compaction_mu_;
  std::condition_variable compaction_cv_;
  bool compaction_wanted_ KV_GUARDED_BY(compaction_mu_) = false;
  bool compacting_ KV_GUARDED_BY(write_mu_) = false;
  std::atomic<bool> closing_{false};
  std::atomic<uint64_t> compactions_{0};
  std::jthread compactor_;
  std::jthread syncer_;  // kEverySec only
  bool closed_ = false;
};

}  // namespace kv::lab02
