// See reply_parser.h for the grammar and why parsing is strict.
#include "tools/kvbench/reply_parser.h"

#include <charconv>

#include <fmt/format.h>

#include "common/escape.h"

namespace kv::kvbench {
namespace {

class Parser {
 public:
  Parser(std::string_view buffer, const ParserLimits& limits)
      : buffer_(buffer), limits_(limits) {}

  ParseStatus parse(Reply& out, int depth) {
    out = Reply();
    if (at_ >= buffer_.size()) return ParseStatus::kNeedMore;
    size_t start = at_;
    char type = buffer_[at_];
    std::string_view line;
    if (ParseStatus s = read_line(line); s != ParseStatus::kComplete) return s;
    switch (type) {
      case '+':
      case '-':
        out.type = type == '+' ? ReplyType::kSimple : ReplyType::kError;
        out.text = line;
        return ParseStatus::kComplete;
      case ':':
        out.type = ReplyType::kInteger;
        return parse_integer(line, start, out.integer);
      case '$':
        return parse_bulk(line, start, out);
      case '*':
        return parse_array(line, start, out, depth);
      default:
        return malformed(start, fmt::format("unknown reply type {}",
                                            quote(std::string_view(&type, 1))));
    }
  }

  size_t consumed() const { return at_; }
  std::string& error() { return error_; }

 private:
  // The line after the type byte, up to "\r\n"; at_ moves past it.
  ParseStatus read_line(std::string_view& line) {
    size_t begin = at_ + 1;
    size_t limit = std::min(buffer_.size(), begin + limits_.max_line_bytes + 2);
    for (size_t i = begin; i < limit; ++i) {
      char c = buffer_[i];
      if (c == '\n')
        return malformed(i, "a line ends in \\n without \\r before it");
      if (c != '\r') continue;
      if (i + 1 == buffer_.size()) return ParseStatus::kNeedMore;
      if (buffer_[i + 1] != '\n')
        return malformed(i, "\\r not followed by \\n inside a line");
      line = buffer_.substr(begin, i - begin);
      at_ = i + 2;
      return ParseStatus::kComplete;
    }
    if (limit - begin > limits_.max_line_bytes)
      return malformed(at_, fmt::format("line longer than {} bytes",
                                        limits_.max_line_bytes));
    return ParseStatus::kNeedMore;
  }

  ParseStatus parse_integer(std::string_view text, size_t start,
                            int64_t& value) {
    auto [end, ec] =
        std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
      return malformed(start,
                       fmt::format("{} is not a decimal integer", quote(text)));
    return ParseStatus::kComplete;
  }

  ParseStatus parse_bulk(std::string_view header, size_t start, Reply& out) {
    int64_t length;
    if (ParseStatus s = parse_integer(header, start, length);
        s != ParseStatus::kComplete)
      return s;
    if (length == -1) {
      out.type = ReplyType::kNull;
      return ParseStatus::kComplete;
    }
    if (length < 0 || static_cast<uint64_t>(length) > limits_.max_bulk_bytes)
      return malformed(start,
                       fmt::format("bulk length {} out of range", length));
    auto bytes = static_cast<size_t>(length);
    if (buffer_.size() - at_ < bytes + 2) return ParseStatus::kNeedMore;
    if (buffer_.substr(at_ + bytes, 2) != "\r\n")
      return malformed(at_ + bytes,
                       fmt::format("bulk of {} bytes not followed by \\r\\n "
                                   "(the length is wrong)",
                                   bytes));
    out.type = ReplyType::kBulk;
    out.text = buffer_.substr(at_, bytes);
    at_ += bytes + 2;
    return ParseStatus::kComplete;
  }

  ParseStatus parse_array(std::string_view header, size_t start, Reply& out,
                          int depth) {
    int64_t count;
    if (ParseStatus s = parse_integer(header, start, count);
        s != ParseStatus::kComplete)
      return s;
    if (count == -1) {
      out.type = ReplyType::kNullArray;
      return ParseStatus::kComplete;
    }
    if (count < 0 || static_cast<uint64_t>(count) > limits_.max_array_elements)
      return malformed(start,
                       fmt::format("array length {} out of range", count));
    if (depth >= limits_.max_depth)
      return malformed(start, fmt::format("arrays nested deeper than {}",
                                          limits_.max_depth));
    out.type = ReplyType::kArray;
    for (int64_t i = 0; i < count; ++i) {
      Reply element;
      if (ParseStatus s = parse(element, depth + 1);
          s != ParseStatus::kComplete)
        return s;
      out.elements.push_back(std::move(element));
    }
    return ParseStatus::kComplete;
  }

  ParseStatus malformed(size_t at, std::string what) {
    error_ = fmt::format("malformed reply at byte {}: {}", at, what);
    return ParseStatus::kMalformed;
  }

  std::string_view buffer_;
  const ParserLimits& limits_;
  size_t at_ = 0;
  std::string error_;
};

}  // namespace

ParseResult parse_reply(std::string_view buffer, Reply& out,
                        const ParserLimits& limits) {
  Parser parser(buffer, limits);
  ParseResult result;
  result.status = parser.parse(out, 0);
  if (result.status == ParseStatus::kComplete)
    result.consumed = parser.consumed();
  if (result.status == ParseStatus::kMalformed)
    result.error = std::move(parser.error());
  return result;
}

namespace {

// Printable ASCII as is, the rest escaped, cut at max_bytes.
std::string escaped(std::string_view bytes, size_t max_bytes) {
  std::string out;
  append_escaped(out, bytes, max_bytes);
  if (bytes.size() > max_bytes) out += "...";
  return out;
}

}  // namespace

std::string quote(std::string_view bytes, size_t max_bytes) {
  std::string out = "\"" + escaped(bytes, max_bytes) + "\"";
  if (bytes.size() > max_bytes) out += fmt::format(" ({} bytes)", bytes.size());
  return out;
}

std::string describe(const Reply& reply, size_t max_bytes) {
  switch (reply.type) {
    case ReplyType::kSimple:
      return "+" + escaped(reply.text, max_bytes);
    case ReplyType::kError:
      return "-" + escaped(reply.text, max_bytes);
    case ReplyType::kInteger:
      return fmt::format(":{}", reply.integer);
    case ReplyType::kBulk:
      return quote(reply.text, max_bytes);
    case ReplyType::kNull:
      return "(nil)";
    case ReplyType::kNullArray:
      return "(nil array)";
    case ReplyType::kArray: {
      std::string out = fmt::format("[{} elements", reply.elements.size());
      constexpr size_t kShown = 3;
      for (size_t i = 0; i < reply.elements.size() && i < kShown; ++i)
        out += (i == 0 ? ": " : ", ") + describe(reply.elements[i], max_bytes);
      if (reply.elements.size() > kShown) out += ", ...";
      return out + "]";
    }
  }
  return "?";
}

}  // namespace kv::kvbench
