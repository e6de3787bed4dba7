// lab02-check: prints a log's or checkpoint's records and says how the
// file ends, in the spirit of redis-check-aof. With --truncate it cuts the
// file at its first bad record: the way out when the server refuses to
// start because of damage in the middle, once a person has decided that
// losing what follows is acceptable.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "common/escape.h"
#include "record.h"
#include "wal_files.h"
#include "wal_reader.h"

namespace {

std::string shown(std::string_view bytes, size_t limit) {
  std::string out;
  kv::append_escaped(out, bytes, limit);
  if (bytes.size() > limit) out += fmt::format("... ({} bytes)", bytes.size());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "lab02-check: print the records of a lab 02 log or checkpoint and "
      "check that it is whole. Exit 0 when clean, 1 when it ends in a torn "
      "tail or is damaged, 2 when it cannot be read."};
  std::string file;
  bool truncate = false;
  bool quiet = false;
  app.add_option("FILE", file, "log.NNNNNNNN or checkpoint.NNNNNNNN")
      ->required();
  app.add_flag("--truncate", truncate,
               "cut the file at its first bad record (everything from there "
               "on is lost)");
  app.add_flag("-q,--quiet", quiet, "print only the summary");
  CLI11_PARSE(app, argc, argv);

  const std::filesystem::path path(file);
  const kv::lab02::NamedFile named =
      kv::lab02::classify_name(path.filename().string());
  if (named.role != kv::lab02::FileRole::kLog &&
      named.role != kv::lab02::FileRole::kCheckpoint &&
      named.role != kv::lab02::FileRole::kCheckpointTmp) {
    fmt::print(stderr,
               "{}: not a lab 02 file name (log.NNNNNNNN or "
               "checkpoint.NNNNNNNN)\n",
               file);
    return 2;
  }
  const kv::lab02::FileKind kind = named.role == kv::lab02::FileRole::kLog
                                       ? kv::lab02::FileKind::kLog
                                       : kv::lab02::FileKind::kCheckpoint;
  kv::Result<std::string> bytes = kv::lab02::read_file(path);
  if (!bytes.ok()) {
    fmt::print(stderr, "{}\n", bytes.status().message());
    return 2;
  }
  const std::string& data = bytes.value();
  if (!kv::lab02::check_file_header(data, kind, named.generation)) {
    fmt::print("{}: bad file header (expected a {} of generation {})\n", file,
               kind == kv::lab02::FileKind::kLog ? "log" : "checkpoint",
               named.generation);
    return 1;
  }
  size_t offset = kv::lab02::kFileHeaderBytes;
  kv::lab02::ScanResult scan = kv::lab02::scan_records(
      data, offset, [&](const kv::lab02::Record& record) {
        kv::lab02::Record copy;
        size_t size = kv::lab02::decode_record(
                          std::string_view(data).substr(offset), copy)
                          .size;
        if (!quiet) {
          switch (record.type) {
            case kv::lab02::RecordType::kSet:
              fmt::print("{:>10}  SET {} {}\n", offset, shown(record.key, 60),
                         shown(record.value, 60));
              break;
            case kv::lab02::RecordType::kDel:
              fmt::print("{:>10}  DEL {}\n", offset, shown(record.key, 60));
              break;
            case kv::lab02::RecordType::kEnd:
              fmt::print("{:>10}  END {} entries\n", offset, record.count);
              break;
          }
        }
        offset += size;
      });
  fmt::print("{}: {} records, {} bytes", file, scan.records, data.size());
  if (scan.end == kv::lab02::ScanResult::End::kClean) {
    fmt::print(", clean\n");
    return 0;
  }
  const bool torn = scan.end == kv::lab02::ScanResult::End::kTornTail;
  fmt::print(", {} at offset {}: {}; {} bytes after it\n",
             torn ? "torn tail" : "DAMAGED (valid records follow)",
             scan.valid_bytes, scan.reason, data.size() - scan.valid_bytes);
  if (!truncate) {
    fmt::print("run with --truncate to cut the file at offset {}\n",
               scan.valid_bytes);
    return 1;
  }
  // Not under a running server's feet: take the directory's LOCK first.
  const std::filesystem::path lock_path = path.parent_path() / "LOCK";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
  if (lock_fd >= 0 && ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    fmt::print(stderr,
               "{} is in use by a running server (its LOCK is held); stop "
               "it first\n",
               path.parent_path().string());
    return 2;
  }
  if (::truncate(path.c_str(), static_cast<off_t>(scan.valid_bytes)) != 0) {
    std::perror("truncate");
    return 2;
  }
  int fd = ::open(path.c_str(), O_WRONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  fmt::print("truncated {} to {} bytes\n", file, scan.valid_bytes);
  return 0;
}
