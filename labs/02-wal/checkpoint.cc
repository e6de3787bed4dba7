// See checkpoint.h.
#include "checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/not_implemented.h"
#include "record.h"
#include "wal_files.h"

namespace kv::lab02 {
namespace fs = std::filesystem;
namespace {

constexpr size_t kWriteChunkBytes = 1 << 20;

}  // namespace

Result<uint64_t> write_checkpoint(const fs::path& dir, uint64_t generation,
                                  const Entries& entries,
                                  const std::atomic<bool>& cancel) {
  const fs::path final_path = dir / checkpoint_name(generation);
  const fs::path tmp_path = final_path.string() + std::string(kTmpSuffix);
  // LAB02 BEGIN: write_checkpoint — .tmp, fdatasync, rename, fsync the dir
  // A new name, not the final one: until the rename, a crash leaves a
  // .tmp that recovery deletes, and the logs still hold everything.
  UniqueFd fd(
      ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid())
    return Status::from_errno("create " + tmp_path.string(), errno);
  auto fail = [&](Status status) -> Result<uint64_t> {
    ::unlink(tmp_path.c_str());
    return status;
  };
  std::string buffer = encode_file_header(FileKind::kCheckpoint, generation);
  uint64_t size = 0;
  Record record;
  for (const auto& [key, value] : entries) {
    record.key = key;
    record.value = value;
    encode_record(record, buffer);
    if (buffer.size() >= kWriteChunkBytes) {
      if (cancel.load()) return fail(Status::unavailable("cancelled"));
      if (Status s = write_all(fd.get(), buffer); !s.ok()) return fail(s);
      size += buffer.size();
      buffer.clear();
    }
  }
  encode_record(Record{RecordType::kEnd, "", "", entries.size()}, buffer);
  if (Status s = write_all(fd.get(), buffer); !s.ok()) return fail(s);
  size += buffer.size();
  // Its bytes must be on disk before its name says it is the checkpoint:
  // otherwise a power cut after the rename can leave the final name on an
  // empty or partial file, with the logs it replaced gone.
  if (::fdatasync(fd.get()) != 0)
    return fail(Status::from_errno("fdatasync " + tmp_path.string(), errno));
  fd.reset();
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0)
    return fail(Status::from_errno("rename " + tmp_path.string(), errno));
  // The rename is durable only once the directory is synced. Until then a
  // power cut may undo it even after the removal of the old log has
  // reached the disk: nothing orders the two without this fsync.
  if (Status s = fsync_dir(dir); !s.ok()) return s;
  return size;
  // LAB02 END
}

Status remove_covered(const fs::path& dir, uint64_t generation) {
  std::error_code error;
  std::vector<fs::path> doomed;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    const NamedFile named = classify_name(entry.path().filename().string());
    if ((named.role == FileRole::kLog && named.generation <= generation) ||
        (named.role == FileRole::kCheckpoint && named.generation < generation))
      doomed.push_back(entry.path());
  }
  if (error) return Status::io_error("cannot list " + dir.string());
  for (const fs::path& path : doomed)
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return Status::from_errno("unlink " + path.string(), errno);
  return fsync_dir(dir);
}

}  // namespace kv::lab02
