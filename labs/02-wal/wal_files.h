// The data directory's files: their names (wal_format.h) and the few
// system calls lab 02 makes on them, each returning a Status, so that the
// writer, the recovery and the check tool say the same thing when the disk
// fails them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/unique_fd.h"

namespace kv::lab02 {

std::string log_name(uint64_t generation);         // "log.00000007"
std::string checkpoint_name(uint64_t generation);  // "checkpoint.00000007"

enum class FileRole { kLog, kCheckpoint, kCheckpointTmp, kLock, kOther };
struct NamedFile {
  FileRole role = FileRole::kOther;
  uint64_t generation = 0;
};
// What a name in the data directory is, by the rules of wal_format.h.
NamedFile classify_name(std::string_view name);

// write(2) until every byte is written; EINTR is retried.
Status write_all(int fd, std::string_view bytes);
// The whole file, for the reader (files are bounded by compaction).
Result<std::string> read_file(const std::filesystem::path& path);
// fsync of the directory itself: what makes a create, a rename or an
// unlink in it durable. An fsync of a file does not.
Status fsync_dir(const std::filesystem::path& dir);

// Creates log.<generation> holding only its header, and makes both its
// bytes and its name durable before returning, so that a write appended to
// it and acknowledged cannot vanish with the file. The descriptor is open
// for appending.
Result<UniqueFd> create_log_file(const std::filesystem::path& dir,
                                 uint64_t generation);

}  // namespace kv::lab02
