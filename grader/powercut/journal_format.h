// The power-cut journal: the bytes libkvfault.so (kvfault.cc) appends while
// a server runs and that the grader (powercut_journal.cc) folds into what
// a power cut would leave. Written by one side, read by the other; this
// header is the whole contract. No dependencies: the interposer includes it.
//
// A journal is a sequence of records, each written by one write(2):
//
//   +-------------+------+---------------------+
//   | length: u32 | type | payload             |  length = 1 + payload size
//   +-------------+------+---------------------+
//
// Integers are little-endian (the interposer writes them natively and
// refuses to build elsewhere). The server may be SIGKILLed in the middle
// of a record (a large UNDO is a large write), so a record cut short at
// end of file is ignored; an unknown type or a payload of the wrong shape
// before that is a bad journal.
//
// A run of the server begins with HELLO then BASELINE; a journal holding
// several runs is read from its last HELLO. Payloads:
//
//   HELLO     "KVFAULT1" | pid: u32 | dir dev: u64 | dir ino: u64
//   BASELINE  listing: the data dir at load, each file's size durable
//   DIRSYNC   listing: the data dir after a successful fsync of it
//   OP        op       about to run (before it runs)
//   CRASH     op       about to run when KVFAULT_CRASH_AT fired; then SIGKILL
//   UNDO      ino: u64 | offset: u64 | the bytes there before the change
//   SYNC      ino: u64 | size: u64      the inode is durable up to size
//   NEW       ino: u64   an inode entered the model: no durable bytes yet
//   STASH     ino: u64   hard-linked as <stash>/<dev>-<ino> before losing a
//                        name that may still be durable
//   ERROR     text       the interposer could not keep the model; fatal
//
//   listing = count: u32 | count x (ino: u64 | size: u64 | kind: u8 |
//                                    name length: u16 | name)
//   op      = number: u64 | kind: u8 | name length: u16 | name |
//             new name length: u16 | new name   (new name: rename only)
//
// Ops are numbered from 1, the numbers KVFAULT_CRASH_AT counts. UNDOs of
// an inode matter only after its last SYNC (or NEW, or BASELINE): applied
// newest first to its current bytes, then cut to the synced size, they
// give its durable contents.
#pragma once

#include <cstdint>

namespace kv::powercut {

constexpr char kHelloMagic[8] = {'K', 'V', 'F', 'A', 'U', 'L', 'T', '1'};
constexpr uint32_t kLengthBytes = 4;
// An UNDO larger than this is split across records, so a record length
// always fits in u32 and the grader never reads a gigabyte in one go.
constexpr uint64_t kMaxUndoBytes = 16u << 20;

enum class RecordType : uint8_t {
  kHello = 1,
  kBaseline = 2,
  kDirSync = 3,
  kOp = 4,
  kCrash = 5,
  kUndo = 6,
  kSync = 7,
  kNew = 8,
  kStash = 9,
  kError = 10,
};

enum class EntryKind : uint8_t { kFile = 1, kDirectory = 2, kOther = 3 };

enum class OpKind : uint8_t {
  kCreate = 1,
  kWrite = 2,
  kTruncate = 3,
  kFsync = 4,
  kFdatasync = 5,
  kDirSync = 6,
  kRename = 7,
  kUnlink = 8,
  kSync = 9,  // sync(2) or syncfs(2) of the data dir's filesystem
  kFallocate = 10,
};

}  // namespace kv::powercut
