// Reading a log or checkpoint back: decode its records in order and decide
// how the file ends, by the rule in wal_format.h: clean; a torn tail (no
// valid record after the first bad one), which recovery may cut off; or
// corruption (a valid record after the bad one), which it must not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "record.h"

namespace kv::lab02 {

struct ScanResult {
  enum class End { kClean, kTornTail, kCorrupt };
  End end = End::kClean;
  size_t valid_bytes = 0;  // offset just past the last good record
  uint64_t records = 0;    // good records handed to on_record
  std::string reason;      // kTornTail, kCorrupt: what is wrong there
};

// Decodes the records of bytes from offset start (just past the file
// header), calling on_record for each good one in order, until the end or
// the first record that does not decode.
ScanResult scan_records(std::string_view bytes, size_t start,
                        const std::function<void(const Record&)>& on_record);

// True when some offset after from holds a record that decodes.
bool valid_record_after(std::string_view bytes, size_t from);

}  // namespace kv::lab02
