// See wal_files.h.
#include "wal_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include <fmt/format.h>

#include "common/not_implemented.h"
#include "record.h"
#include "wal_format.h"

namespace kv::lab02 {
namespace {

std::optional<uint64_t> parse_generation(std::string_view digits) {
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  uint64_t value = 0;
  auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size())
    return std::nullopt;
  return value;
}

}  // namespace

std::string log_name(uint64_t generation) {
  return fmt::format("{}{:08}", kLogPrefix, generation);
}

std::string checkpoint_name(uint64_t generation) {
  return fmt::format("{}{:08}", kCheckpointPrefix, generation);
}

NamedFile classify_name(std::string_view name) {
  if (name == kLockName) return {FileRole::kLock, 0};
  FileRole role;
  if (name.starts_with(kLogPrefix)) {
    name.remove_prefix(kLogPrefix.size());
    role = FileRole::kLog;
  } else if (name.starts_with(kCheckpointPrefix)) {
    name.remove_prefix(kCheckpointPrefix.size());
    role = FileRole::kCheckpoint;
    if (name.ends_with(kTmpSuffix)) {
      name.remove_suffix(kTmpSuffix.size());
      role = FileRole::kCheckpointTmp;
    }
  } else {
    return {};
  }
  std::optional<uint64_t> generation = parse_generation(name);
  if (!generation || *generation == 0) return {};
  return {role, *generation};
}

Status write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno("write", errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok_status();
}

Result<std::string> read_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::from_errno("open " + path.string(), errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return Status::from_errno("fstat " + path.string(), errno);
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno("read " + path.string(), errno);
    }
    if (n == 0) break;  // shrank under us: take what is there
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

Status fsync_dir(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Status::from_errno("open " + dir.string(), errno);
  if (::fsync(fd.get()) != 0)
    return Status::from_errno("fsync " + dir.string(), errno);
  return Status::ok_status();
}

Result<UniqueFd> create_log_file(const std::filesystem::path& dir,
                                 uint64_t generation) {
  const std::filesystem::path path = dir / log_name(generation);
  // LAB02 BEGIN: create_log_file — header, fsync the file, then the dir
  UniqueFd fd(::open(
      path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
  if (!fd.valid()) return Status::from_errno("create " + path.string(), errno);
  if (Status s =
          write_all(fd.get(), encode_file_header(FileKind::kLog, generation));
      !s.ok())
    return s;
  if (::fdatasync(fd.get()) != 0)
    return Status::from_errno("fdatasync " + path.string(), errno);
  // The file's bytes are durable; its name is not until the directory is.
  if (Status s = fsync_dir(dir); !s.ok()) return s;
  return fd;
  // LAB02 END
}

}  // namespace kv::lab02
