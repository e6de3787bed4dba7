// See escape.h.
#include "common/escape.h"

#include <fmt/format.h>

namespace kv {

void append_escaped(std::string& out, std::string_view bytes,
                    size_t max_bytes) {
  for (size_t i = 0; i < bytes.size() && i < max_bytes; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
}

}  // namespace kv
