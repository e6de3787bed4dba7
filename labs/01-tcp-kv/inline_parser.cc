// See inline_parser.h for the format; the tests are inline_parser_test.cc.
#include "inline_parser.h"

#include "common/not_implemented.h"

namespace kv::lab01 {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Frame next_line(std::string_view buffer, size_t max_line_bytes) {
  // LAB01 BEGIN: next_line — find \n, strip one \r, enforce the line limit
  size_t newline = buffer.find('\n');
  if (newline == std::string_view::npos) {
    // Without this, a client that never sends \n makes us buffer forever.
    if (buffer.size() > max_line_bytes) return {FrameKind::kTooLong, {}, 0};
    return {FrameKind::kNeedMore, {}, 0};
  }
  std::string_view line = buffer.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > max_line_bytes) return {FrameKind::kTooLong, {}, 0};
  return {FrameKind::kLine, line, newline + 1};
  // LAB01 END
}

Result<std::vector<std::string>> split_inline(std::string_view line) {
  // LAB01 BEGIN: split_inline — words, double quotes and escapes
  std::vector<std::string> words;
  size_t i = 0;
  while (true) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size()) return words;

    if (line[i] != '"') {
      const size_t start = i;
      while (i < line.size() && !is_space(line[i])) ++i;
      words.emplace_back(line.substr(start, i - start));
      continue;
    }

    std::string word;

    ++i;  // the opening quote
    bool closed = false;
    while (i < line.size() && !closed) {
      char c = line[i++];
      if (c == '"') {
        closed = true;
      } else if (c != '\\') {
        word.push_back(c);
      } else {
        if (i == line.size()) break;  // a backslash cannot end the line
        char e = line[i++];
        switch (e) {
          case '"':
            word.push_back('"');
            break;
          case '\\':
            word.push_back('\\');
            break;
          case 'n':
            word.push_back('\n');
            break;
          case 'r':
            word.push_back('\r');
            break;
          case 't':
            word.push_back('\t');
            break;
          case 'x': {
            int hi = i < line.size() ? hex_digit(line[i]) : -1;
            int lo = i + 1 < line.size() ? hex_digit(line[i + 1]) : -1;
            if (hi < 0 || lo < 0)
              return Status::invalid_argument(
                  "Protocol error: \\x must be followed by two hex digits");
            word.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
            break;
          }
          default:
            return Status::invalid_argument(
                "Protocol error: unknown escape in quoted string (use \\\" "
                "\\\\ \\n \\r \\t \\xHH)");
        }
      }
    }
    if (!closed)
      return Status::invalid_argument(
          "Protocol error: unbalanced quotes in request");
    // "a"b is ambiguous (one word or two?): refuse it, as Redis does.
    if (i < line.size() && !is_space(line[i]))
      return Status::invalid_argument(
          "Protocol error: closing quote must be followed by a space or the "
          "end of the line");
    words.push_back(std::move(word));
  }
  // LAB01 END
}

}  // namespace kv::lab01
