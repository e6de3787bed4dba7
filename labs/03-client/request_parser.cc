// See request_parser.h for the format; the tests are request_parser_test.cc.
#include "request_parser.h"

#include <cstdint>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "common/not_implemented.h"
#include "common/parse.h"

namespace kv::lab03 {
namespace {

// One header line ("*3\r\n", "$5\r\n") at the front of buffer.
struct HeaderLine {
  enum Kind { kNeedMore, kLine, kGarbage } kind = kNeedMore;
  std::string_view text;  // without the \r\n
  size_t consumed = 0;
};

HeaderLine header_line(std::string_view buffer) {
  size_t newline = buffer.substr(0, kMaxHeaderLineBytes).find('\n');
  if (newline == std::string_view::npos)
    return {buffer.size() >= kMaxHeaderLineBytes ? HeaderLine::kGarbage
                                                 : HeaderLine::kNeedMore,
            {},
            0};
  // RESP ends every line in \r\n; a bare \n means this is not RESP.
  if (newline == 0 || buffer[newline - 1] != '\r')
    return {HeaderLine::kGarbage, {}, 0};
  return {HeaderLine::kLine, buffer.substr(0, newline - 1), newline + 1};
}

// The decimal number after the type byte: "*3" -> 3. Nothing else allowed:
// no '+', no spaces, no "3abc".
std::optional<int64_t> header_number(std::string_view line) {
  return parse_int64(line.substr(1));
}

Request need_more() { return {RequestKind::kNeedMore, {}, {}, 0}; }

Request fatal(std::string message) {
  return {RequestKind::kFatal, {}, std::move(message), 0};
}

Request inline_request(std::string_view buffer, const RequestLimits& limits) {
  lab01::Frame frame = lab01::next_line(buffer, limits.max_inline_bytes);
  if (frame.kind == lab01::FrameKind::kNeedMore) return need_more();
  if (frame.kind == lab01::FrameKind::kTooLong)
    return fatal(fmt::format("Protocol error: line too long (limit {} bytes)",
                             limits.max_inline_bytes));
  Result<std::vector<std::string>> words = lab01::split_inline(frame.line);
  if (!words.ok())
    return {RequestKind::kError, {}, words.status().message(), frame.consumed};
  return {RequestKind::kRequest, std::move(words.value()), {}, frame.consumed};
}

Request multibulk_request(std::string_view buffer,
                          const RequestLimits& limits) {
  // LAB03 BEGIN: multibulk_request — *N, then N times $LEN and LEN bytes
  HeaderLine count_line = header_line(buffer);
  if (count_line.kind == HeaderLine::kNeedMore) return need_more();
  if (count_line.kind == HeaderLine::kGarbage)
    return fatal("Protocol error: invalid multibulk length");
  std::optional<int64_t> count = header_number(count_line.text);
  if (!count) {
    // Nothing of the array has been read yet: skip this line, and the next
    // one can start a request again.
    return {RequestKind::kError,
            {},
            "Protocol error: invalid multibulk length",
            count_line.consumed};
  }
  if (*count <= 0) {
    // *0 and *-1 (a null array) ask nothing, as in Redis: no reply.
    return {RequestKind::kRequest, {}, {}, count_line.consumed};
  }
  if (static_cast<uint64_t>(*count) > limits.max_arguments)
    return fatal(fmt::format("Protocol error: too many arguments (limit {})",
                             limits.max_arguments));

  // First find where each argument is without copying anything, so that a
  // request still arriving is scanned again cheaply on the next read and
  // its bytes are copied once, when it is complete.
  std::vector<std::pair<size_t, size_t>> arguments;  // (offset, length)
  size_t pos = count_line.consumed;
  for (int64_t i = 0; i < *count; ++i) {
    HeaderLine bulk_line = header_line(buffer.substr(pos));
    if (bulk_line.kind == HeaderLine::kNeedMore) return need_more();
    if (bulk_line.kind == HeaderLine::kGarbage)
      return fatal(
          "Protocol error: bulk header too long or not ending in "
          "\\r\\n");
    if (bulk_line.text.empty() || bulk_line.text[0] != '$')
      return fatal(fmt::format("Protocol error: expected '$', got '{}'",
                               buffer.substr(pos, 1)));
    std::optional<int64_t> length = header_number(bulk_line.text);
    if (!length || *length < 0)
      return fatal("Protocol error: invalid bulk length");
    if (static_cast<uint64_t>(*length) > limits.max_bulk_bytes)
      return fatal(fmt::format("Protocol error: bulk too long (limit {} bytes)",
                               limits.max_bulk_bytes));
    pos += bulk_line.consumed;
    size_t end = pos + static_cast<size_t>(*length) + 2;  // + \r\n
    if (end > limits.max_request_bytes)
      return fatal(
          fmt::format("Protocol error: request too long (limit {} bytes)",
                      limits.max_request_bytes));
    if (buffer.size() < end) return need_more();
    if (buffer.substr(end - 2, 2) != "\r\n")
      return fatal("Protocol error: bulk not followed by \\r\\n");
    arguments.emplace_back(pos, static_cast<size_t>(*length));
    pos = end;
  }
  Request request{RequestKind::kRequest, {}, {}, pos};
  request.words.reserve(arguments.size());
  for (auto [offset, length] : arguments)
    request.words.emplace_back(buffer.substr(offset, length));
  return request;
  // LAB03 END
}

}  // namespace

Request next_request(std::string_view buffer, const RequestLimits& limits) {
  if (buffer.empty()) return need_more();
  if (buffer[0] == '*') return multibulk_request(buffer, limits);
  return inline_request(buffer, limits);
}

}  // namespace kv::lab03
