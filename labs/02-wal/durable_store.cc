// See durable_store.h.
#include "durable_store.h"

#include <chrono>
#include <cstdlib>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "checkpoint.h"
#include "common/not_implemented.h"
#include "wal_files.h"

namespace kv::lab02 {

Result<std::unique_ptr<DurableStore>> DurableStore::open(
    const DurableOptions& options) {
  std::unique_ptr<DurableStore> store(new DurableStore(options));
  if (Status s = store->start(); !s.ok()) return s;
  return store;
}

DurableStore::DurableStore(const DurableOptions& options) : options_(options) {}

Status DurableStore::start() {
  auto started = std::chrono::steady_clock::now();
  // Replayed through the base class: replaying must not log again.
  Result<Recovered> recovered =
      recover(options_.dir, [this](const Record& record) {
        if (record.type == RecordType::kSet) {
          lab01::Store::set(record.key, record.value);
        } else if (record.type == RecordType::kDel) {
          lab01::Store::erase(record.key);
        }
      });
  if (!recovered.ok()) return recovered.status();
  recovered_ = std::move(recovered).value();
  for (const std::string& note : recovered_.notes)
    spdlog::warn("recovery: {}", note);
  spdlog::info(
      "recovered {} keys from {} (checkpoint: {} entries; logs: {} "
      "records) in {:.3f} s",
      size(), options_.dir.string(), recovered_.checkpoint_entries,
      recovered_.log_records,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count());
  writer_ = std::make_unique<WalWriter>(std::move(recovered_.log),
                                        recovered_.generation, options_.fsync);
  {
    std::lock_guard lock(write_mu_);
    log_bytes_ = recovered_.log_bytes;
    checkpoint_bytes_ = recovered_.checkpoint_bytes;
  }
  compactor_ = std::jthread([this] { compaction_loop(); });
  if (options_.fsync == FsyncPolicy::kEverySec)
    syncer_ =
        std::jthread([this](std::stop_token stop) { everysec_loop(stop); });
  return Status::ok_status();
}

DurableStore::~DurableStore() { close(); }

void DurableStore::log_locked(const Record& record) {
  // LAB02 BEGIN: DurableStore::log_locked — encode, append, count the bytes
  encoded_.clear();
  encode_record(record, encoded_);
  writer_->append(encoded_);
  log_bytes_ += encoded_.size();
  compact_if_due();
  // LAB02 END
}

void DurableStore::compact_if_due() {
  const uint64_t threshold = std::max<uint64_t>(
      options_.compact_min_bytes,
      static_cast<uint64_t>(options_.compact_ratio *
                            static_cast<double>(checkpoint_bytes_)));
  if (log_bytes_ <= threshold || compacting_) return;
  compacting_ = true;
  std::lock_guard lock(compaction_mu_);
  compaction_wanted_ = true;
  compaction_cv_.notify_one();
}

void DurableStore::set(std::string key, std::string value) {
  // LAB02 BEGIN: DurableStore::set — log it, then change the map, one lock
  std::lock_guard lock(write_mu_);
  log_locked(Record{RecordType::kSet, key, value, 0});
  lab01::Store::set(std::move(key), std::move(value));
  // LAB02 END
}

bool DurableStore::erase(std::string_view key) {
  // LAB02 BEGIN: DurableStore::erase — log a DEL only for a key that is there
  std::lock_guard lock(write_mu_);
  if (!contains(key)) return false;
  log_locked(Record{RecordType::kDel, std::string(key), "", 0});
  return lab01::Store::erase(key);
  // LAB02 END
}

void DurableStore::wait_durable() { writer_->commit(); }

void DurableStore::compaction_loop() {
  while (true) {
    {
      std::unique_lock lock(compaction_mu_);
      compaction_cv_.wait(lock, [&] { return compaction_wanted_ || closing_; });
      if (closing_) return;
      compaction_wanted_ = false;
    }
    try {
      compact();
    } catch (const NotImplemented& e) {
      // A starter copy: say what is missing and stop, rather than let the
      // logs grow without a word.
      spdlog::critical("{}", e.what());
      spdlog::default_logger()->flush();
      std::_Exit(70);
    }
  }
}

void DurableStore::compact() {
  auto started = std::chrono::steady_clock::now();
  uint64_t covered;
  Entries entries;
  {
    // Writers wait while the log is switched and the map copied: a few
    // milliseconds per 100k keys. Everything before the switch is in the
    // old logs and in the copy; everything after goes to the new log.
    std::lock_guard lock(write_mu_);
    covered = writer_->generation();
    // The old log is finished and synced before the next one exists:
    // recovery calls a torn record in any log but the last corruption.
    writer_->commit();
    writer_->sync_now();
    Result<UniqueFd> next = create_log_file(options_.dir, covered + 1);
    if (!next.ok()) {
      spdlog::error("compaction: {}", next.status().message());
      compacting_ = false;
      return;
    }
    writer_->switch_to(std::move(next).value(), covered + 1);
    log_bytes_ = kFileHeaderBytes;
    entries = lab01::Store::entries();
  }
  const auto held = std::chrono::steady_clock::now() - started;
  Result<uint64_t> size =
      write_checkpoint(options_.dir, covered, entries, closing_);
  Status removed =
      size.ok() ? remove_covered(options_.dir, covered) : size.status();
  std::lock_guard lock(write_mu_);
  compacting_ = false;
  if (!removed.ok()) {
    // The logs still hold everything; the next compaction tries again.
    if (!closing_) spdlog::error("compaction: {}", removed.message());
    return;
  }
  checkpoint_bytes_ = size.value();
  compactions_.fetch_add(1);
  spdlog::info(
      "compaction: {} keys in {} ({} bytes) in {:.3f} s; writers waited "
      "{:.1f} ms for the switch and the copy",
      entries.size(), checkpoint_name(covered), size.value(),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count(),
      std::chrono::duration<double, std::milli>(held).count());
}

void DurableStore::everysec_loop(std::stop_token stop) {
  std::mutex mu;
  std::unique_lock lock(mu);
  std::condition_variable_any cv;
  while (!stop.stop_requested()) {
    // close() wakes it through the stop token.
    cv.wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
    writer_->sync_now();
  }
}

void DurableStore::close() {
  if (closed_ || !writer_) return;
  closed_ = true;
  {
    std::lock_guard lock(compaction_mu_);
    closing_ = true;
    compaction_cv_.notify_one();
  }
  if (compactor_.joinable()) compactor_.join();
  if (syncer_.joinable()) {
    syncer_.request_stop();
    syncer_.join();
  }
  writer_->commit();
  writer_->sync_now();
}

}  // namespace kv::lab02
