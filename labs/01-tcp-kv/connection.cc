// See connection.h. The bytes are framed and split by inline_parser.h and
// executed by commands.h; this file owns only the read/write loop.
#include "connection.h"

#include <sys/socket.h>

#include <cerrno>
#include <string>

#include <fmt/format.h>

#include "commands.h"
#include "common/net.h"
#include "common/not_implemented.h"
#include "resp.h"

namespace kv::lab01 {

void serve_connection(int fd, Store& store, const ConnectionOptions& options) {
  // LAB01 BEGIN: serve_connection — read, frame, execute, reply in order
  std::string input;   // bytes received and not yet consumed
  std::string output;  // replies not yet written
  char chunk[16 * 1024];
  while (true) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client hung up, or the server is stopping
    input.append(chunk, static_cast<size_t>(n));

    // One read may hold many requests (pipelining) or part of one: answer
    // every complete line, keep the rest for the next read.
    size_t consumed = 0;
    bool close_after_reply = false;
    while (!close_after_reply) {
      Frame frame = next_line(std::string_view(input).substr(consumed),
                              options.max_line_bytes);
      if (frame.kind == FrameKind::kNeedMore) break;
      if (frame.kind == FrameKind::kTooLong) {
        // The rest of the stream cannot be trusted to start at a request.
        append_error(output, fmt::format("Protocol error: line too long "
                                         "(limit {} bytes)",
                                         options.max_line_bytes));
        close_after_reply = true;
        break;
      }
      consumed += frame.consumed;
      Result<std::vector<std::string>> words = split_inline(frame.line);
      if (!words.ok()) {
        append_error(output, words.status().message());
      } else if (!words.value().empty()) {
        close_after_reply =
            execute(words.value(), store, output) == AfterReply::kClose;
      }
    }
    input.erase(0, consumed);

    if (!output.empty()) {
      if (!send_all(fd, output).ok()) return;
      output.clear();
    }
    if (close_after_reply) return;
  }
  // LAB01 END
}

}  // namespace kv::lab01
