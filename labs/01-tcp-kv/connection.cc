// See connection.h. The bytes are framed and split by inline_parser.h and
// executed by commands.h; this file only strings them together.
#include "connection.h"

#include <fmt/format.h>

#include "commands.h"
#include "common/not_implemented.h"
#include "resp.h"

namespace kv::lab01 {

Served serve_requests(std::string& input, Store& store, std::string& output,
                      const ConnectionOptions& options) {
  // LAB01 BEGIN: serve_requests — frame, execute, reply in order
  // Erase once at the end, not per request: erasing the front of a string
  // moves everything after it, which would make a pipeline quadratic.
  size_t consumed = 0;
  Served result = Served::kNeedMore;
  while (true) {
    if (output.size() >= options.max_output_bytes) {
      result = Served::kOutputFull;
      break;
    }
    Frame frame = next_line(std::string_view(input).substr(consumed),
                            options.max_line_bytes);
    if (frame.kind == FrameKind::kNeedMore) break;
    if (frame.kind == FrameKind::kTooLong) {
      // The rest of the stream cannot be trusted to start at a request.
      append_error(output, fmt::format("Protocol error: line too long "
                                       "(limit {} bytes)",
                                       options.max_line_bytes));
      result = Served::kClose;
      break;
    }
    consumed += frame.consumed;
    Result<std::vector<std::string>> words = split_inline(frame.line);
    if (!words.ok()) {
      append_error(output, words.status().message());
    } else if (!words.value().empty() &&
               execute(words.value(), store, output) == AfterReply::kClose) {
      result = Served::kClose;
      break;
    }
  }
  input.erase(0, consumed);
  return result;
  // LAB01 END
}

}  // namespace kv::lab01
