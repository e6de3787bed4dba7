// See resp.h.
#include "resp.h"

#include <fmt/format.h>

namespace kv::lab01 {

void append_simple(std::string& out, std::string_view text) {
  out += '+';
  out += text;
  out += "\r\n";
}

void append_error(std::string& out, std::string_view message) {
  out += "-ERR ";
  for (char c : message) {
    auto byte = static_cast<unsigned char>(c);
    out += (byte < 0x20 || byte == 0x7f) ? '?' : c;
  }
  out += "\r\n";
}

void append_integer(std::string& out, int64_t value) {
  fmt::format_to(std::back_inserter(out), ":{}\r\n", value);
}

void append_bulk(std::string& out, std::string_view bytes) {
  fmt::format_to(std::back_inserter(out), "${}\r\n", bytes.size());
  out += bytes;
  out += "\r\n";
}

void append_null(std::string& out) { out += "$-1\r\n"; }

}  // namespace kv::lab01
