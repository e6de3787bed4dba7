#include "inline_parser.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kv::lab01 {
namespace {

using Words = std::vector<std::string>;

// "ERR" for an error, else the words joined by '|'.
std::string render(const Result<Words>& result) {
  if (!result.ok()) return "ERR";
  std::string out;
  for (const std::string& w : result.value()) out += w + "|";
  return out;
}

struct SplitCase {
  const char* name;
  std::string line;
  std::string want;
};

TEST(SplitInlineTest, Table) {
  const SplitCase kCases[] = {
      {"empty line", "", ""},
      {"blank line", "  \t ", ""},
      {"one word", "PING", "PING|"},
      {"words", "SET k v", "SET|k|v|"},
      {"runs of spaces and tabs", "  SET\t k   v  ", "SET|k|v|"},
      {"quoted with space", "SET k \"hello world\"", "SET|k|hello world|"},
      {"empty quoted", "SET k \"\"", "SET|k||"},
      {"escaped quote", R"(SET k "say \"hi\"")", "SET|k|say \"hi\"|"},
      {"escaped backslash", R"(SET k "a\\b")", "SET|k|a\\b|"},
      {"newline escape", R"(SET k "a\nb")", "SET|k|a\nb|"},
      {"cr and tab escapes", R"(SET k "\r\t")", "SET|k|\r\t|"},
      {"hex escape", R"(SET k "\x41\x7a")", "SET|k|Az|"},
      {"quote inside a bare word", "SET k a\"b", "SET|k|a\"b|"},
      {"quoted key", "GET \"my key\"", "GET|my key|"},
      {"unterminated quote", "SET k \"abc", "ERR"},
      {"unterminated after escape", "SET k \"abc\\\"", "ERR"},
      {"backslash at end", "SET k \"abc\\", "ERR"},
      {"closing quote glued", "SET k \"a\"b", "ERR"},
      {"unknown escape", R"(SET k "\q")", "ERR"},
      {"short hex escape", R"(SET k "\x4")", "ERR"},
      {"bad hex escape", R"(SET k "\xZZ")", "ERR"},
  };
  for (const SplitCase& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(render(split_inline(c.line)), c.want);
  }
}

TEST(SplitInlineTest, NulAndHighBytesAreOrdinaryBytes) {
  std::string line("SET k\0x \xff\xfe", 10);
  Result<Words> words = split_inline(line);
  ASSERT_TRUE(words.ok());
  ASSERT_EQ(words.value().size(), 3u);
  EXPECT_EQ(words.value()[1], std::string("k\0x", 3));
  EXPECT_EQ(words.value()[2], "\xff\xfe");
}

TEST(SplitInlineTest, HexEscapeCanMakeNul) {
  Result<Words> words = split_inline(R"(SET k "\x00")");
  ASSERT_TRUE(words.ok());
  EXPECT_EQ(words.value()[2], std::string(1, '\0'));
}

TEST(SplitInlineTest, ErrorMessagesNameTheProblem) {
  EXPECT_NE(split_inline("SET k \"v").status().message().find("unbalanced"),
            std::string::npos);
}

TEST(NextLineTest, NeedsMoreWithoutNewline) {
  EXPECT_EQ(next_line("").kind, FrameKind::kNeedMore);
  EXPECT_EQ(next_line("PING").kind, FrameKind::kNeedMore);
  EXPECT_EQ(next_line("PING\r").kind, FrameKind::kNeedMore);
}

TEST(NextLineTest, StripsLfAndCrLf) {
  Frame lf = next_line("PING\nrest");
  ASSERT_EQ(lf.kind, FrameKind::kLine);
  EXPECT_EQ(lf.line, "PING");
  EXPECT_EQ(lf.consumed, 5u);

  Frame crlf = next_line("PING\r\nrest");
  ASSERT_EQ(crlf.kind, FrameKind::kLine);
  EXPECT_EQ(crlf.line, "PING");
  EXPECT_EQ(crlf.consumed, 6u);
}

TEST(NextLineTest, OnlyOneCarriageReturnIsStripped) {
  Frame frame = next_line("GET k\r\r\n");
  ASSERT_EQ(frame.kind, FrameKind::kLine);
  EXPECT_EQ(frame.line, "GET k\r");
}

TEST(NextLineTest, TakesTheFirstOfManyLines) {
  std::string buffer = "SET a 1\r\nGET a\nPI";
  Frame first = next_line(buffer);
  ASSERT_EQ(first.kind, FrameKind::kLine);
  EXPECT_EQ(first.line, "SET a 1");
  Frame second = next_line(std::string_view(buffer).substr(first.consumed));
  ASSERT_EQ(second.kind, FrameKind::kLine);
  EXPECT_EQ(second.line, "GET a");
  EXPECT_EQ(next_line(std::string_view(buffer).substr(first.consumed +
                                                      second.consumed))
                .kind,
            FrameKind::kNeedMore);
}

TEST(NextLineTest, EmptyLineIsALine) {
  Frame frame = next_line("\r\n");
  ASSERT_EQ(frame.kind, FrameKind::kLine);
  EXPECT_EQ(frame.line, "");
  EXPECT_EQ(frame.consumed, 2u);
}

TEST(NextLineTest, LineAtTheLimitIsAcceptedOneOverIsNot) {
  std::string at_limit(16, 'x');
  EXPECT_EQ(next_line(at_limit + "\n", 16).kind, FrameKind::kLine);
  EXPECT_EQ(next_line(at_limit + "\r\n", 16).kind, FrameKind::kLine);
  EXPECT_EQ(next_line(at_limit + "x\n", 16).kind, FrameKind::kTooLong);
}

TEST(NextLineTest, TooLongIsSeenBeforeTheNewlineArrives) {
  EXPECT_EQ(next_line(std::string(16, 'x'), 16).kind, FrameKind::kNeedMore);
  EXPECT_EQ(next_line(std::string(17, 'x'), 16).kind, FrameKind::kTooLong);
  EXPECT_EQ(next_line(std::string(kMaxInlineLineBytes + 1, 'x')).kind,
            FrameKind::kTooLong);
}

}  // namespace
}  // namespace kv::lab01
