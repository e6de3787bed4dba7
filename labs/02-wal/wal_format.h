// wal_format.h: the bytes lab 02 writes, defined once. The writer, the
// reader, the check tool, the grader's disk faults and the handout follow it.
//
// The bytes of the write-ahead log. Every file lab 02 writes (the log and
// the checkpoint) is a 16-byte file header followed by records; every
// record is framed and checksummed so that recovery can tell a complete
// record from one cut short by a crash, or one damaged on disk:
//
//   offset  size  field
//   0       4     length: bytes of type + payload, little-endian
//   4       4     crc: CRC-32 (zlib's) of the 4 length bytes, the type
//                 byte and the payload, little-endian
//   8       1     type: 1 SET, 2 DEL, 3 END
//   9       n-1   payload
//
//   SET payload: key length (4 bytes, little-endian), key, value (the rest)
//   DEL payload: key
//   END payload: how many SET records the checkpoint holds (8 bytes, LE);
//                only in checkpoints, always last
//
// The file header is an 8-byte magic ("kvwal02\n" for a log, "kvckp02\n"
// for a checkpoint) and the file's generation (8 bytes, little-endian), the
// number in its name: a log renamed by hand, or a stray file, is refused.
//
// Files in the data directory (generation numbers are decimal, 8 digits):
//   log.NNNNNNNN              records appended since the checkpoint before
//   checkpoint.NNNNNNNN       every key and value once, as of the end of
//                             log.NNNNNNNN (SET records, then one END)
//   checkpoint.NNNNNNNN.tmp   a checkpoint being written; never read
//   LOCK                      held (flock) by the running server
//
// What a reader does with a record that does not decode (cut short, or a
// checksum that does not match): if no valid record follows it anywhere in
// the file, it is a torn tail, the last write that a crash interrupted;
// the reader cuts the file there and carries on, with a warning. If a valid
// record follows, the damage is in the middle of acknowledged data: the
// reader stops and the server refuses to start, naming file and offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kv::lab02 {

enum class RecordType : uint8_t { kSet = 1, kDel = 2, kEnd = 3 };

// length and crc, before the type byte.
constexpr size_t kRecordPrefixBytes = 8;
// Far above any record the protocol can produce (a 64 KiB line in lab 02,
// 1 MiB key and value from lab 03), so a larger length is damage, not data.
constexpr uint32_t kMaxRecordLength = 16u << 20;

constexpr std::string_view kLogMagic = "kvwal02\n";
constexpr std::string_view kCheckpointMagic = "kvckp02\n";
constexpr size_t kFileHeaderBytes = 16;

constexpr std::string_view kLogPrefix = "log.";
constexpr std::string_view kCheckpointPrefix = "checkpoint.";
constexpr std::string_view kTmpSuffix = ".tmp";
constexpr std::string_view kLockName = "LOCK";

}  // namespace kv::lab02
