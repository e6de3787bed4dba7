// The inline request format of DESIGN §4, as two pure functions on bytes:
// next_line() cuts one request line out of what a connection has received
// so far, split_inline() turns that line into words. No I/O, no state, so
// every nasty input is a unit test (inline_parser_test.cc).
//
//   SET greeting "hello world"\r\n   ->  ["SET", "greeting", "hello world"]
//
// Lines end in \n or \r\n. Words are separated by spaces or tabs. A word
// that starts with a double quote runs to the matching quote and may hold
// spaces and the escapes \" \\ \n \r \t \xHH; the closing quote must end
// the word. A quote inside an unquoted word is an ordinary byte.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kv::lab01 {

// 64 KiB, as DESIGN §4 sets: a longer line is refused and the connection
// closed, so a client cannot make the server buffer without bound.
inline constexpr size_t kMaxInlineLineBytes = 64 * 1024;

enum class FrameKind {
  kNeedMore,  // no complete line yet: read more bytes
  kLine,      // line holds one request, without its \n or \r\n
  kTooLong,   // the line exceeds the limit: reply an error and close
};

struct Frame {
  FrameKind kind = FrameKind::kNeedMore;
  std::string_view line;  // points into the buffer given to next_line
  size_t consumed = 0;    // bytes of the buffer this line used, terminator too
};

// Finds the first complete line in buffer. A line longer than max_line_bytes
// (not counting its terminator) is kTooLong as soon as that many bytes have
// arrived without a newline, so the check never waits for the end.
Frame next_line(std::string_view buffer,
                size_t max_line_bytes = kMaxInlineLineBytes);

// Splits one line into words. An empty or blank line gives no words. An
// unbalanced quote, a closing quote glued to the next word or a bad escape
// is kInvalidArgument with a message fit to send back to the client.
Result<std::vector<std::string>> split_inline(std::string_view line);

}  // namespace kv::lab01
