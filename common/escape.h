// Bytes shown to a person inside a diagnosis: a reply, a request, a value
// that came back wrong. Printable ASCII stays as it is; quote and backslash
// are escaped, \r and \n written as such, any other byte as \xHH, so that a
// message never carries a control byte to the terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kv {

// Appends the first max_bytes of bytes, escaped as above, to out. The caller
// says how it marks a cut (bytes.size() > max_bytes).
void append_escaped(std::string& out, std::string_view bytes, size_t max_bytes);

}  // namespace kv
