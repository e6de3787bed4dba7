// RESP2 replies (DESIGN §4), appended to an output buffer so that a batch
// of pipelined requests goes back in one write:
//   +OK\r\n   -ERR message\r\n   :3\r\n   $5\r\nhello\r\n   $-1\r\n
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kv::lab01 {

void append_simple(std::string& out, std::string_view text);  // +text
// -ERR message. Control bytes in message (which may echo a client's bytes)
// are replaced by '?', so an error line can never break the framing.
void append_error(std::string& out, std::string_view message);
void append_integer(std::string& out, int64_t value);        // :value
void append_bulk(std::string& out, std::string_view bytes);  // binary-safe
void append_null(std::string& out);                          // $-1

}  // namespace kv::lab01
