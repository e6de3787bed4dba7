// Self-describing values: every value kvbench writes says which key it was
// written for, by which connection, and as that connection's how-many-th
// SET, and the rest of it is filler derived from those three numbers. So a
// GET that returns a value never written for that key (another key's, a
// corrupted or truncated one, bytes kvbench never wrote) is caught by
// re-deriving the value from its own header, without remembering any value.
//
// Layout, exactly `size` bytes, all in [0-9a-zA-Z_-] so an inline SET can
// carry it as one word (no spaces, quotes or backslashes):
//
//   offset  0      7    10        18   20                          size
//           +------+----+---------+----+----------------------------+
//           | key  |wrtr| seq     |chk | filler                     |
//           +------+----+---------+----+----------------------------+
//   key     7 base-36 digits [0-9a-z], most significant first (< 36^7)
//   writer  3 digits: the connection that sent the SET (< 46656)
//   seq     8 digits: that connection's SET counter, from 1 (< 36^8)
//   chk     2 digits: a hash of key, writer, seq and size, mod 36^2
//   filler  size - 20 bytes from a 64-symbol alphabet, a stream seeded by
//           a hash of key, writer and seq
//
//   key:17, writer 3, seq 5, size 32  ->  "000000h00300000005vkmfrdYe4_F5Eg"
//   (key "000000h", writer "003", seq "00000005", chk "vk", filler)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kv::kvbench {

inline constexpr size_t kValueHeaderBytes = 20;
// --value-size bounds: the header must fit; the upper bound keeps a SET
// under DESIGN §4's 1 MiB key+value limit (inline: 64 KiB per line).
inline constexpr size_t kMinValueBytes = kValueHeaderBytes;
inline constexpr size_t kMaxValueBytes = 1024 * 1024 - 1024;
inline constexpr size_t kMaxInlineValueBytes = 64 * 1024 - 1024;

inline constexpr uint64_t kMaxValueKey = 78364164096ULL - 1;    // 36^7 - 1
inline constexpr uint32_t kMaxValueWriter = 46656 - 1;          // 36^3 - 1
inline constexpr uint64_t kMaxValueSeq = 2821109907456ULL - 1;  // 36^8 - 1

struct ValueId {
  uint64_t key = 0;
  uint32_t writer = 0;
  uint64_t seq = 0;

  bool operator==(const ValueId&) const = default;
};

// Appends the value for id, exactly size bytes (size >= kMinValueBytes).
void append_value(std::string& out, const ValueId& id, size_t size);
std::string make_value(const ValueId& id, size_t size);

// The id of a value kvbench wrote with this size, or kDataLoss saying what
// is wrong with it (wrong length, not a kvbench value, corrupted header,
// corrupted filler at byte N). The caller compares the key with the one it
// asked for.
Result<ValueId> decode_value(std::string_view value, size_t size);

}  // namespace kv::kvbench
