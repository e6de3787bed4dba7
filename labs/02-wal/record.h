// Encoding and decoding of one record and of a file header, as wal_format.h
// draws them. Pure: no I/O, so the tests feed it bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "wal_format.h"

namespace kv::lab02 {

struct Record {
  RecordType type = RecordType::kSet;
  std::string key;
  std::string value;   // SET only
  uint64_t count = 0;  // END only
};

enum class FileKind { kLog, kCheckpoint };
std::string encode_file_header(FileKind kind, uint64_t generation);
// True when bytes start with a complete, valid header of that kind and
// generation.
bool check_file_header(std::string_view bytes, FileKind kind,
                       uint64_t generation);
// True when bytes (shorter than a header) could be the start of one: a
// header cut short by a crash right after the file was created.
bool is_header_prefix(std::string_view bytes, FileKind kind,
                      uint64_t generation);

// Appends the framed record to out.
void encode_record(const Record& record, std::string& out);

enum class Decoded {
  kOk,         // record filled in; size says how many bytes it took
  kTruncated,  // bytes end before the record does
  kBad,        // impossible length, checksum mismatch, unknown type, or a
               // payload that does not parse
};
struct DecodeResult {
  Decoded status = Decoded::kBad;
  size_t size = 0;     // kOk: bytes the record took
  std::string reason;  // kTruncated, kBad: what is wrong, for messages
};
// Decodes the record at the start of bytes.
DecodeResult decode_record(std::string_view bytes, Record& record);

}  // namespace kv::lab02
