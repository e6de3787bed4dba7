// See recovery.h.
#include "recovery.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/not_implemented.h"
#include "wal_files.h"
#include "wal_reader.h"

namespace kv::lab02 {
namespace fs = std::filesystem;
namespace {

Result<UniqueFd> lock_directory(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error)
    return Status::io_error(fmt::format("cannot create data directory {}: {}",
                                        dir.string(), error.message()));
  if (!fs::is_directory(dir, error))
    return Status::invalid_argument(
        fmt::format("data directory {} is not a directory", dir.string()));
  const fs::path path = dir / kLockName;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid())
    return Status::io_error(
        fmt::format("cannot write in data directory {}: {}", dir.string(),
                    std::error_code(errno, std::generic_category()).message()));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
    return Status::unavailable(fmt::format(
        "data directory {} is locked by another running server (its LOCK "
        "file is held)",
        dir.string()));
  return fd;
}

Status remove_file(const fs::path& path, std::vector<std::string>& notes,
                   std::string_view why) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Status::from_errno("unlink " + path.string(), errno);
  notes.push_back(fmt::format("removed {}: {}", path.filename().string(), why));
  return Status::ok_status();
}

// Synced before anything is appended: if the cut were lost, the torn bytes
// would come back in front of new records, and the next recovery would
// find damage in the middle.
Status truncate_durably(const fs::path& path, size_t size) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::from_errno("open " + path.string(), errno);
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
    return Status::from_errno("ftruncate " + path.string(), errno);
  if (::fdatasync(fd.get()) != 0)
    return Status::from_errno("fdatasync " + path.string(), errno);
  return Status::ok_status();
}

// Replays one log. Only the last may end torn, and then it is cut there.
Status replay_log(const fs::path& path, uint64_t generation, bool last,
                  const std::function<void(const Record&)>& apply,
                  Recovered& out) {
  Result<std::string> bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  const std::string& data = bytes.value();
  if (!check_file_header(data, FileKind::kLog, generation)) {
    if (last && is_header_prefix(data, FileKind::kLog, generation)) {
      // Created, then a crash before its header was written: no record was
      // ever acknowledged from it.
      out.notes.push_back(fmt::format(
          "{} has no complete header; starting it again", path.string()));
      out.truncated_bytes += data.size();
      if (Status s = truncate_durably(path, 0); !s.ok()) return s;
      UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
      if (!fd.valid())
        return Status::from_errno("open " + path.string(), errno);
      if (Status s = write_all(fd.get(),
                               encode_file_header(FileKind::kLog, generation));
          !s.ok())
        return s;
      if (::fdatasync(fd.get()) != 0)
        return Status::from_errno("fdatasync " + path.string(), errno);
      out.log_bytes += kFileHeaderBytes;
      return Status::ok_status();
    }
    return Status::data_loss(
        fmt::format("{} is not a lab 02 log of generation {} (bad file header)",
                    path.string(), generation));
  }
  ScanResult scan = scan_records(data, kFileHeaderBytes, apply);
  out.log_records += scan.records;
  switch (scan.end) {
    case ScanResult::End::kClean:
      break;
    case ScanResult::End::kCorrupt:
      return Status::data_loss(fmt::format(
          "{}: damaged record at offset {} ({}) with valid records after "
          "it; refusing to start. Inspect it with lab02-check",
          path.string(), scan.valid_bytes, scan.reason));
    case ScanResult::End::kTornTail:
      if (!last)
        return Status::data_loss(fmt::format(
            "{}: damaged record at offset {} ({}) in a log that is not the "
            "last; refusing to start. Inspect it with lab02-check",
            path.string(), scan.valid_bytes, scan.reason));
      out.notes.push_back(fmt::format(
          "{}: torn tail at offset {} ({}): cut {} bytes", path.string(),
          scan.valid_bytes, scan.reason, data.size() - scan.valid_bytes));
      out.truncated_bytes += data.size() - scan.valid_bytes;
      if (Status s = truncate_durably(path, scan.valid_bytes); !s.ok())
        return s;
      break;
  }
  out.log_bytes += scan.valid_bytes;
  return Status::ok_status();
}

}  // namespace

Status load_checkpoint(const fs::path& path, uint64_t generation,
                       const std::function<void(const Record&)>& apply,
                       uint64_t& entries) {
  Result<std::string> bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  const std::string& data = bytes.value();
  if (!check_file_header(data, FileKind::kCheckpoint, generation))
    return Status::data_loss(fmt::format(
        "{} is not a lab 02 checkpoint of generation {} (bad file header)",
        path.string(), generation));
  std::optional<uint64_t> end_count;
  entries = 0;
  ScanResult scan =
      scan_records(data, kFileHeaderBytes, [&](const Record& record) {
        if (end_count) {
          end_count = UINT64_MAX;  // a record after END: not a checkpoint
          return;
        }
        if (record.type == RecordType::kEnd) {
          end_count = record.count;
          return;
        }
        ++entries;
        apply(record);
      });
  if (scan.end != ScanResult::End::kClean)
    return Status::data_loss(
        fmt::format("{}: damaged record at offset {} ({}); refusing to start",
                    path.string(), scan.valid_bytes, scan.reason));
  if (!end_count || *end_count != entries)
    return Status::data_loss(fmt::format(
        "{} is incomplete (no END record matching its {} entries); refusing "
        "to start",
        path.string(), entries));
  return Status::ok_status();
}

Result<Recovered> recover(const fs::path& dir,
                          const std::function<void(const Record&)>& apply) {
  Result<UniqueFd> lock = lock_directory(dir);
  if (!lock.ok()) return lock.status();
  Recovered out;
  out.lock = std::move(lock).value();

  // LAB02 BEGIN: recover — checkpoint, then later logs in order; clean up
  std::map<uint64_t, fs::path> logs, checkpoints, temporaries;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    const NamedFile named = classify_name(name);
    switch (named.role) {
      case FileRole::kLog:
        logs[named.generation] = entry.path();
        break;
      case FileRole::kCheckpoint:
        checkpoints[named.generation] = entry.path();
        break;
      case FileRole::kCheckpointTmp:
        temporaries[named.generation] = entry.path();
        break;
      case FileRole::kLock:
        break;
      case FileRole::kOther:
        if (name == "lost+found") break;
        return Status::invalid_argument(fmt::format(
            "{} holds {}, which is not a lab 02 file; refusing to start "
            "(is --data-dir right?)",
            dir.string(), name));
    }
  }
  if (error)
    return Status::io_error(
        fmt::format("cannot list {}: {}", dir.string(), error.message()));

  // A checkpoint that was still being written when the server stopped.
  for (const auto& [generation, path] : temporaries)
    if (Status s = remove_file(path, out.notes, "an unfinished checkpoint");
        !s.ok())
      return s;

  uint64_t covered = 0;  // logs up to this generation are in the checkpoint
  if (!checkpoints.empty()) {
    auto newest = std::prev(checkpoints.end());
    covered = newest->first;
    if (Status s = load_checkpoint(newest->second, covered, apply,
                                   out.checkpoint_entries);
        !s.ok())
      return s;
    out.checkpoint_bytes = fs::file_size(newest->second, error);
    // Older checkpoints and the logs the newest one covers: a compaction
    // stopped before it removed them.
    for (auto it = checkpoints.begin(); it != newest; ++it)
      if (Status s = remove_file(it->second, out.notes, "an older checkpoint");
          !s.ok())
        return s;
  }
  for (auto it = logs.begin(); it != logs.end() && it->first <= covered;) {
    if (Status s =
            remove_file(it->second, out.notes, "already in the checkpoint");
        !s.ok())
      return s;
    it = logs.erase(it);
  }

  uint64_t expected = covered + 1;
  for (const auto& [generation, path] : logs) {
    if (generation != expected)
      return Status::data_loss(fmt::format(
          "{}: {} is missing (the logs after the checkpoint must be "
          "consecutive); refusing to start",
          dir.string(), log_name(expected)));
    const bool last = generation == logs.rbegin()->first;
    if (Status s = replay_log(path, generation, last, apply, out); !s.ok())
      return s;
    ++expected;
  }

  if (logs.empty()) {
    out.generation = covered + 1;
    Result<UniqueFd> fd = create_log_file(dir, out.generation);
    if (!fd.ok()) return fd.status();
    out.log = std::move(fd).value();
    out.log_bytes = kFileHeaderBytes;
  } else {
    out.generation = logs.rbegin()->first;
    const fs::path& path = logs.rbegin()->second;
    out.log = UniqueFd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
    if (!out.log.valid())
      return Status::from_errno("open " + path.string(), errno);
  }
  if (!out.notes.empty()) {
    // What recovery removed or cut must stay removed or cut.
    if (Status s = fsync_dir(dir); !s.ok()) return s;
  }
  return out;
  // LAB02 END
}

}  // namespace kv::lab02
