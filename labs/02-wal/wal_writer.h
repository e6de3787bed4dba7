// WalWriter: appends records to the current log file and makes them
// durable with group commit. Appends only copy bytes into a buffer; commit()
// writes the buffer and calls fdatasync once for everything appended so
// far, by whichever thread gets there first, while the others wait for it:
// a hundred writers waiting at once cost one fsync, not a hundred.
//
// The fsync policy says what commit() promises when it returns:
//   kAlways    the bytes are on stable storage (fdatasync): survives a
//              crash of the process and a power cut;
//   kEverySec  written to the file (the kernel's page cache): survives a
//              crash of the process; a thread calls sync_now() every second,
//              so a power cut loses up to about two seconds of writes;
//   kNever     written to the file; the kernel writes it back when it likes
//              (about 30 s on Linux): a power cut loses that much.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "common/thread_annotations.h"
#include "common/unique_fd.h"

namespace kv::lab02 {

enum class FsyncPolicy { kAlways, kEverySec, kNever };

class WalWriter {
 public:
  // fd is open for appending to the log of that generation.
  WalWriter(UniqueFd fd, uint64_t generation, FsyncPolicy policy);

  // Queues bytes (whole records) at the end of the log. The caller
  // serialises appends, so the log's order is the order it applied them.
  void append(std::string_view bytes);
  // Returns when everything appended before the call is as safe as the
  // policy promises. A failed write or fsync ends the process (see
  // fail_stop in wal_writer.cc): nothing unsafe is ever acknowledged.
  void commit();
  // fdatasync of what commit() has written (kEverySec's timer; shutdown).
  void sync_now();
  // Makes everything appended durable in the current file, whatever the
  // policy, then appends to fd from now on. The caller holds off appends.
  void switch_to(UniqueFd fd, uint64_t generation);

  uint64_t generation() const;
  FsyncPolicy policy() const { return policy_; }

 private:
  const FsyncPolicy policy_;
  mutable std::mutex mu_;
  std::condition_variable flushed_;
  UniqueFd fd_ KV_GUARDED_BY(mu_);
  uint64_t generation_ KV_GUARDED_BY(mu_);
  std::string pending_ KV_GUARDED_BY(mu_);  // appended, not yet written
  // Positions in the stream of all bytes ever appended.
  uint64_t appended_ KV_GUARDED_BY(mu_) = 0;
  uint64_t written_ KV_GUARDED_BY(mu_) = 0;   // handed to write(2)
  uint64_t synced_ KV_GUARDED_BY(mu_) = 0;    // and fdatasync'ed
  bool flushing_ KV_GUARDED_BY(mu_) = false;  // a thread is in write/fsync
};

}  // namespace kv::lab02
