// See reply_parser.h; the tests are reply_parser_test.cc.
#include "reply_parser.h"

#include <optional>

#include <fmt/format.h>

#include "common/escape.h"
#include "common/not_implemented.h"
#include "common/parse.h"

namespace kv::lab03 {
namespace {

ParsedReply garbage(std::string error) {
  ParsedReply parsed;
  parsed.kind = ParsedReply::Kind::kGarbage;
  parsed.error = std::move(error);
  return parsed;
}

}  // namespace

std::string Reply::to_string() const {
  switch (type) {
    case Type::kStatus:
      return text;
    case Type::kError:
      return "(error) " + text;
    case Type::kInteger:
      return fmt::format("(integer) {}", integer);
    case Type::kNull:
      return "(nil)";
    case Type::kBulk: {
      std::string out = "\"";
      append_escaped(out, text, text.size());
      return out + "\"";
    }
  }
  return "?";
}

ParsedReply parse_reply(std::string_view buffer) {
  // LAB03 BEGIN: parse_reply — one RESP2 reply, or need more, or garbage
  size_t newline = buffer.substr(0, kMaxReplyLineBytes + 2).find("\r\n");
  if (newline == std::string_view::npos) {
    if (buffer.size() >= kMaxReplyLineBytes + 2)
      return garbage("reply line too long");
    // A type byte we cannot know is garbage at once, not after 64 KiB.
    if (!buffer.empty() &&
        std::string_view("+-:$").find(buffer[0]) == std::string_view::npos)
      return garbage(fmt::format("unexpected reply type byte 0x{:02x}",
                                 static_cast<unsigned char>(buffer[0])));
    return {};
  }
  std::string_view line = buffer.substr(1, newline - 1);
  size_t after_line = newline + 2;
  ParsedReply parsed;
  parsed.kind = ParsedReply::Kind::kReply;
  parsed.consumed = after_line;
  switch (buffer[0]) {
    case '+':
      parsed.reply.type = Reply::Type::kStatus;
      parsed.reply.text = line;
      return parsed;
    case '-':
      parsed.reply.type = Reply::Type::kError;
      parsed.reply.text = line;
      return parsed;
    case ':': {
      std::optional<int64_t> value = parse_int64(line);
      if (!value) return garbage("malformed integer reply");
      parsed.reply.type = Reply::Type::kInteger;
      parsed.reply.integer = *value;
      return parsed;
    }
    case '$': {
      std::optional<int64_t> length = parse_int64(line);
      if (!length || *length < -1) return garbage("malformed bulk length");
      if (*length == -1) {
        parsed.reply.type = Reply::Type::kNull;
        return parsed;
      }
      if (static_cast<uint64_t>(*length) > kMaxReplyBulkBytes)
        return garbage(
            fmt::format("bulk reply of {} bytes is too long", *length));
      // The payload is counted, not searched for: it may hold \r\n itself.
      size_t end = after_line + static_cast<size_t>(*length);
      if (buffer.size() < end + 2) return {};
      if (buffer.substr(end, 2) != "\r\n")
        return garbage("bulk reply not followed by \\r\\n");
      parsed.reply.type = Reply::Type::kBulk;
      parsed.reply.text = buffer.substr(after_line, end - after_line);
      parsed.consumed = end + 2;
      return parsed;
    }
    default:
      return garbage(fmt::format("unexpected reply type byte 0x{:02x}",
                                 static_cast<unsigned char>(buffer[0])));
  }
  // LAB03 END
}

}  // namespace kv::lab03
