// Decodes the power-cut journal that libkvfault.so appends to (the bytes
// are defined in powercut/journal_format.h). Pure: bytes in, records out;
// powercut.h folds the records into a power-cut image. A record cut short
// at the end (the server was SIGKILLed mid-append) is dropped and counted;
// any other malformed record is kDataLoss, since an image computed past it
// would be a guess.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "powercut/journal_format.h"

namespace kv::grader {

// A counted filesystem op on the data dir, as KVFAULT_CRASH_AT numbers it.
struct FsOp {
  uint64_t number = 0;  // from 1
  powercut::OpKind kind = powercut::OpKind::kWrite;
  std::string name;      // relative to the data dir; "." for the dir itself
  std::string new_name;  // rename only
  // "write(wal.log)", "rename(checkpoint.tmp -> checkpoint)".
  std::string to_string() const;
};

std::string_view op_kind_name(powercut::OpKind kind);

// One entry of a listing (BASELINE, DIRSYNC).
struct JournalEntry {
  std::string name;
  uint64_t ino = 0;
  uint64_t size = 0;  // files only; durable in a BASELINE
  powercut::EntryKind kind = powercut::EntryKind::kFile;
};

// One decoded record; which fields are set depends on type (see
// journal_format.h).
struct JournalRecord {
  powercut::RecordType type = powercut::RecordType::kHello;
  uint32_t pid = 0;                   // HELLO
  uint64_t dir_dev = 0;               // HELLO
  uint64_t dir_ino = 0;               // HELLO
  uint64_t ino = 0;                   // UNDO, SYNC, NEW, STASH
  uint64_t offset = 0;                // UNDO
  uint64_t size = 0;                  // SYNC
  std::string bytes;                  // UNDO: the old bytes; ERROR: the message
  std::vector<JournalEntry> listing;  // BASELINE, DIRSYNC
  FsOp op;                            // OP, CRASH
};

struct Journal {
  std::vector<JournalRecord> records;  // the last run: its HELLO onwards
  size_t runs = 0;                     // HELLOs seen
  size_t torn_tail_bytes = 0;          // a last record cut short, ignored
};

Result<Journal> parse_journal(std::string_view bytes);
Result<Journal> read_journal(const std::filesystem::path& path);

}  // namespace kv::grader
