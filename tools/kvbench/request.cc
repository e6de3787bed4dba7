// See request.h.
#include "tools/kvbench/request.h"

#include <fmt/format.h>

#include "tools/kvbench/workload.h"

namespace kv::kvbench {
namespace {

size_t key_bytes(uint64_t key) {
  size_t digits = 1;
  for (; key >= 10; key /= 10) ++digits;
  return 4 + digits;  // "key:"
}

}  // namespace

void append_get(std::string& out, Protocol protocol, uint64_t key) {
  if (protocol == Protocol::kInline) {
    out += "GET ";
    append_key(out, key);
    out += "\r\n";
    return;
  }
  fmt::format_to(std::back_inserter(out), "*2\r\n$3\r\nGET\r\n${}\r\n",
                 key_bytes(key));
  append_key(out, key);
  out += "\r\n";
}

void append_set(std::string& out, Protocol protocol, const ValueId& id,
                size_t value_size) {
  if (protocol == Protocol::kInline) {
    out += "SET ";
    append_key(out, id.key);
    out += ' ';
    append_value(out, id, value_size);
    out += "\r\n";
    return;
  }
  fmt::format_to(std::back_inserter(out), "*3\r\n$3\r\nSET\r\n${}\r\n",
                 key_bytes(id.key));
  append_key(out, id.key);
  fmt::format_to(std::back_inserter(out), "\r\n${}\r\n", value_size);
  append_value(out, id, value_size);
  out += "\r\n";
}

}  // namespace kv::kvbench
