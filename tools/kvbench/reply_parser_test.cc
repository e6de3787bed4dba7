// The RESP2 reply parser on bytes: every reply type, every split point,
// and the malformed inputs a broken server could send.
#include "tools/kvbench/reply_parser.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kv::kvbench {
namespace {

struct Case {
  const char* name;
  std::string bytes;
  std::string want;  // describe() of the parsed reply
};

const std::vector<Case>& valid_cases() {
  static const std::vector<Case> cases = {
      {"simple", "+OK\r\n", "+OK"},
      {"empty simple", "+\r\n", "+"},
      {"error", "-ERR unknown command 'FLY'\r\n", "-ERR unknown command 'FLY'"},
      {"integer", ":42\r\n", ":42"},
      {"negative integer", ":-7\r\n", ":-7"},
      {"int64 min", ":-9223372036854775808\r\n", ":-9223372036854775808"},
      {"bulk", "$5\r\nhello\r\n", "\"hello\""},
      {"empty bulk", "$0\r\n\r\n", "\"\""},
      {"binary bulk", std::string("$6\r\na\r\n\0\xff\n\r\n", 12),
       "\"a\\r\\n\\x00\\xff\\n\""},
      {"null bulk", "$-1\r\n", "(nil)"},
      {"array", "*3\r\n$1\r\na\r\n:1\r\n+OK\r\n",
       "[3 elements: \"a\", :1, +OK]"},
      {"empty array", "*0\r\n", "[0 elements]"},
      {"null array", "*-1\r\n", "(nil array)"},
      {"nested array", "*2\r\n*1\r\n:5\r\n$-1\r\n",
       "[2 elements: [1 elements: :5], (nil)]"},
      {"array with error", "*1\r\n-ERR x\r\n", "[1 elements: -ERR x]"},
  };
  return cases;
}

TEST(ReplyParserTest, EveryTypeParsesWhole) {
  for (const Case& c : valid_cases()) {
    SCOPED_TRACE(c.name);
    Reply reply;
    ParseResult r = parse_reply(c.bytes, reply);
    ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error;
    EXPECT_EQ(r.consumed, c.bytes.size());
    EXPECT_EQ(describe(reply), c.want);
  }
}

TEST(ReplyParserTest, FieldsOfEachType) {
  Reply reply;
  ASSERT_EQ(parse_reply(":123\r\n", reply).status, ParseStatus::kComplete);
  EXPECT_EQ(reply.type, ReplyType::kInteger);
  EXPECT_EQ(reply.integer, 123);
  ASSERT_EQ(parse_reply("$3\r\nabc\r\n", reply).status, ParseStatus::kComplete);
  EXPECT_EQ(reply.type, ReplyType::kBulk);
  EXPECT_EQ(reply.text, "abc");
  ASSERT_EQ(parse_reply("-WRONGTYPE x\r\n", reply).status,
            ParseStatus::kComplete);
  EXPECT_EQ(reply.type, ReplyType::kError);
  EXPECT_EQ(reply.text, "WRONGTYPE x");
  ASSERT_EQ(parse_reply("*1\r\n+a\r\n", reply).status, ParseStatus::kComplete);
  ASSERT_EQ(reply.type, ReplyType::kArray);
  ASSERT_EQ(reply.elements.size(), 1u);
  EXPECT_EQ(reply.elements[0].type, ReplyType::kSimple);
  // A reused Reply loses the previous reply's elements.
  ASSERT_EQ(parse_reply("+OK\r\n", reply).status, ParseStatus::kComplete);
  EXPECT_TRUE(reply.elements.empty());
}

TEST(ReplyParserTest, EverySplitPointNeedsMoreThenParsesTheSame) {
  for (const Case& c : valid_cases()) {
    SCOPED_TRACE(c.name);
    for (size_t cut = 0; cut < c.bytes.size(); ++cut) {
      SCOPED_TRACE(cut);
      Reply reply;
      ParseResult r =
          parse_reply(std::string_view(c.bytes).substr(0, cut), reply);
      EXPECT_EQ(r.status, ParseStatus::kNeedMore) << r.error;
      EXPECT_EQ(r.consumed, 0u);
    }
  }
}

TEST(ReplyParserTest, BackToBackRepliesParseOneAtATime) {
  std::string stream;
  for (const Case& c : valid_cases()) stream += c.bytes;
  size_t at = 0;
  for (const Case& c : valid_cases()) {
    SCOPED_TRACE(c.name);
    Reply reply;
    ParseResult r = parse_reply(std::string_view(stream).substr(at), reply);
    ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error;
    EXPECT_EQ(describe(reply), c.want);
    at += r.consumed;
  }
  EXPECT_EQ(at, stream.size());
}

TEST(ReplyParserTest, MalformedInputIsAnErrorSayingWhy) {
  struct Bad {
    std::string bytes;
    std::string why;  // a part of the message
  };
  const Bad kCases[] = {
      {"?what\r\n", "unknown reply type"},
      {"OK\r\n", "unknown reply type"},
      {"+OK\n", "without \\r"},
      {"+O\rK\r\n", "\\r not followed by \\n"},
      {":abc\r\n", "not a decimal integer"},
      {":\r\n", "not a decimal integer"},
      {": 1\r\n", "not a decimal integer"},
      {":+1\r\n", "not a decimal integer"},
      {":99999999999999999999\r\n", "not a decimal integer"},
      {"$-2\r\n", "out of range"},
      {"$x\r\n", "not a decimal integer"},
      {"$3\r\nabcd\r\n", "not followed by \\r\\n"},
      {"$3\r\nab\r\n\r\n", "not followed by \\r\\n"},
      {"$99999999999\r\n", "out of range"},
      {"*-2\r\n", "out of range"},
      {"*1\r\n?\r\n", "unknown reply type"},
      {"*2\r\n:1\r\n+OK\n", "without \\r"},
  };
  for (const Bad& c : kCases) {
    SCOPED_TRACE(c.bytes);
    Reply reply;
    ParseResult r = parse_reply(c.bytes, reply);
    ASSERT_EQ(r.status, ParseStatus::kMalformed);
    EXPECT_NE(r.error.find(c.why), std::string::npos) << r.error;
  }
}

TEST(ReplyParserTest, LimitsAreEnforced) {
  ParserLimits limits;
  limits.max_line_bytes = 8;
  limits.max_bulk_bytes = 4;
  limits.max_array_elements = 2;
  limits.max_depth = 2;
  Reply reply;
  EXPECT_EQ(parse_reply("+12345678\r\n", reply, limits).status,
            ParseStatus::kComplete);
  // A line over the limit is refused as soon as the limit is passed,
  // without waiting for its end.
  EXPECT_EQ(parse_reply("+123456789", reply, limits).status,
            ParseStatus::kMalformed);
  EXPECT_EQ(parse_reply("+12345678", reply, limits).status,
            ParseStatus::kNeedMore);
  EXPECT_EQ(parse_reply("$5\r\nhello\r\n", reply, limits).status,
            ParseStatus::kMalformed);
  EXPECT_EQ(parse_reply("*3\r\n", reply, limits).status,
            ParseStatus::kMalformed);
  EXPECT_EQ(parse_reply("*1\r\n*1\r\n:1\r\n", reply, limits).status,
            ParseStatus::kComplete);
  EXPECT_EQ(parse_reply("*1\r\n*1\r\n*1\r\n:1\r\n", reply, limits).status,
            ParseStatus::kMalformed);
}

TEST(ReplyParserTest, DescribeEscapesAndCuts) {
  Reply reply;
  const std::string bytes = "$60\r\n" + std::string(60, 'x') + "\r\n";
  ASSERT_EQ(parse_reply(bytes, reply).status, ParseStatus::kComplete);
  EXPECT_EQ(describe(reply, 4), "\"xxxx...\" (60 bytes)");
  EXPECT_EQ(quote("a\"b\\\x01"), "\"a\\\"b\\\\\\x01\"");
}

}  // namespace
}  // namespace kv::kvbench
