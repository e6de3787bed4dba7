// See workload.h.
#include "tools/kvbench/workload.h"

#include <charconv>

namespace kv::kvbench {

void append_key(std::string& out, uint64_t key) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, key);
  out += "key:";
  out.append(digits, end);
}

std::string key_name(uint64_t key) {
  std::string out;
  append_key(out, key);
  return out;
}

KeySlice owned_keys(uint64_t keys, uint64_t connections, uint64_t index) {
  KeySlice slice;
  slice.offset = index;
  slice.stride = connections;
  slice.count =
      index < keys ? (keys - index + connections - 1) / connections : 0;
  return slice;
}

}  // namespace kv::kvbench
