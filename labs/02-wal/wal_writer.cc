// See wal_writer.h. One thread at a time flushes (flushing_); it takes the
// whole buffer, writes and syncs it without holding the lock, so appends go
// on meanwhile and pile up for the next flush, which is what makes group
// commit grow with the load.
#include "wal_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/not_implemented.h"
#include "wal_files.h"

namespace kv::lab02 {
namespace {

// A log that cannot be written or synced cannot keep the promise behind an
// +OK. Retrying fsync after it failed is not safe either: Linux may have
// dropped the dirty pages and report success the second time (PostgreSQL's
// "fsyncgate", 2018). So stop at once, acknowledging nothing more; on
// restart, recovery reads what did reach the disk.
[[noreturn]] void fail_stop(const std::string& what) {
  spdlog::critical("{}; stopping without acknowledging anything more", what);
  spdlog::default_logger()->flush();
  std::_Exit(74);
}

}  // namespace

WalWriter::WalWriter(UniqueFd fd, uint64_t generation, FsyncPolicy policy)
    : policy_(policy), fd_(std::move(fd)), generation_(generation) {}

void WalWriter::append(std::string_view bytes) {
  std::lock_guard lock(mu_);
  pending_ += bytes;
  appended_ += bytes.size();
}

void WalWriter::commit() {
  // LAB02 BEGIN: WalWriter::commit — group commit: one fdatasync for all
  std::unique_lock lock(mu_);
  const uint64_t target = appended_;
  const bool sync = policy_ == FsyncPolicy::kAlways;
  while ((sync ? synced_ : written_) < target) {
    if (flushing_) {
      // Someone is writing or syncing; when it is done, either our bytes
      // were in its batch, or we flush the next batch ourselves.
      flushed_.wait(lock);
      continue;
    }
    flushing_ = true;
    std::string batch;
    batch.swap(pending_);
    const uint64_t end = appended_;
    const int fd = fd_.get();
    lock.unlock();
    if (Status s = write_all(fd, batch); !s.ok())
      fail_stop("cannot write the log: " + s.message());
    if (sync && ::fdatasync(fd) != 0)
      fail_stop(std::string("cannot fdatasync the log: ") +
                std::strerror(errno));
    lock.lock();
    written_ = end;
    if (sync) synced_ = end;
    flushing_ = false;
    flushed_.notify_all();
  }
  // LAB02 END
}

void WalWriter::sync_now() {
  std::unique_lock lock(mu_);
  flushed_.wait(lock, [&] { return !flushing_; });
  if (synced_ == written_) return;
  flushing_ = true;
  const uint64_t end = written_;
  const int fd = fd_.get();
  lock.unlock();
  if (::fdatasync(fd) != 0)
    fail_stop(std::string("cannot fdatasync the log: ") + std::strerror(errno));
  lock.lock();
  synced_ = end;
  flushing_ = false;
  flushed_.notify_all();
}

void WalWriter::switch_to(UniqueFd fd, uint64_t generation) {
  std::unique_lock lock(mu_);
  flushed_.wait(lock, [&] { return !flushing_; });
  // No flush runs and the caller holds off appends: the old file is ours.
  // Synced whatever the policy: recovery trusts every log but the last to
  // be complete, and calls damage in one corruption.
  if (Status s = write_all(fd_.get(), pending_); !s.ok())
    fail_stop("cannot write the log: " + s.message());
  if (::fdatasync(fd_.get()) != 0)
    fail_stop(std::string("cannot fdatasync the log: ") + std::strerror(errno));
  pending_.clear();
  written_ = synced_ = appended_;
  fd_ = std::move(fd);
  generation_ = generation;
}

uint64_t WalWriter::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

}  // namespace kv::lab02
