// See serve.h. Lab 01's connection.cc with next_line + split_inline
// replaced by next_request; the rest is unchanged.
#include "serve.h"

#include "commands.h"
#include "common/not_implemented.h"
#include "request_parser.h"
#include "resp.h"

namespace kv::lab03 {

lab01::Served serve_requests(std::string& input, lab01::Store& store,
                             std::string& output,
                             const lab01::ConnectionOptions& options) {
  // LAB03 BEGIN: serve_requests — lab 01's loop, framed by next_request
  RequestLimits limits;
  limits.max_inline_bytes = options.max_line_bytes;
  size_t consumed = 0;
  lab01::Served result = lab01::Served::kNeedMore;
  while (true) {
    if (output.size() >= options.max_output_bytes) {
      result = lab01::Served::kOutputFull;
      break;
    }
    Request request =
        next_request(std::string_view(input).substr(consumed), limits);
    if (request.kind == RequestKind::kNeedMore) break;
    if (request.kind == RequestKind::kFatal) {
      lab01::append_error(output, request.error);
      result = lab01::Served::kClose;
      break;
    }
    consumed += request.consumed;
    if (request.kind == RequestKind::kError) {
      lab01::append_error(output, request.error);
    } else if (!request.words.empty() &&
               lab01::execute(request.words, store, output) ==
                   lab01::AfterReply::kClose) {
      result = lab01::Served::kClose;
      break;
    }
  }
  input.erase(0, consumed);
  return result;
  // LAB03 END
}

}  // namespace kv::lab03
