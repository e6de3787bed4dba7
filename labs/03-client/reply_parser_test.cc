// parse_reply on every reply type, cut anywhere, glued together, and on
// garbage.
#include "reply_parser.h"

#include <string>

#include <gtest/gtest.h>

namespace kv::lab03 {
namespace {

TEST(ReplyParserTest, EveryType) {
  struct Case {
    std::string bytes;
    Reply::Type type;
    std::string shown;
  };
  for (const Case& c : std::vector<Case>{
           {"+OK\r\n", Reply::Type::kStatus, "OK"},
           {"-ERR no\r\n", Reply::Type::kError, "(error) ERR no"},
           {":-42\r\n", Reply::Type::kInteger, "(integer) -42"},
           {"$-1\r\n", Reply::Type::kNull, "(nil)"},
           {"$0\r\n\r\n", Reply::Type::kBulk, "\"\""},
           {"$4\r\na\r\nb\r\n", Reply::Type::kBulk, "\"a\\r\\nb\""},
       }) {
    ParsedReply p = parse_reply(c.bytes);
    ASSERT_EQ(p.kind, ParsedReply::Kind::kReply) << c.bytes;
    EXPECT_EQ(p.reply.type, c.type) << c.bytes;
    EXPECT_EQ(p.reply.to_string(), c.shown);
    EXPECT_EQ(p.consumed, c.bytes.size());
  }
}

TEST(ReplyParserTest, EveryPrefixNeedsMore) {
  std::string bytes = "$10\r\n\r\n\r\n\r\n\r\n\r\n\r\n";
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_EQ(parse_reply(bytes.substr(0, n)).kind,
              ParsedReply::Kind::kNeedMore)
        << n;
  ParsedReply p = parse_reply(bytes);
  ASSERT_EQ(p.kind, ParsedReply::Kind::kReply);
  EXPECT_EQ(p.reply.text, "\r\n\r\n\r\n\r\n\r\n");
}

TEST(ReplyParserTest, OnlyTheFirstReplyIsTaken) {
  ParsedReply p = parse_reply("+OK\r\n:1\r\n");
  ASSERT_EQ(p.kind, ParsedReply::Kind::kReply);
  EXPECT_EQ(p.consumed, 5u);
}

TEST(ReplyParserTest, Garbage) {
  for (std::string bytes : {"hello\r\n", "h", "*1\r\n", ":x\r\n", ":\r\n",
                            "$-2\r\n", "$3\r\nabcd\r\n", "$99999999999\r\n"}) {
    EXPECT_EQ(parse_reply(bytes).kind, ParsedReply::Kind::kGarbage) << bytes;
  }
  EXPECT_EQ(parse_reply(std::string(kMaxReplyLineBytes + 2, '+')).kind,
            ParsedReply::Kind::kGarbage);
}

}  // namespace
}  // namespace kv::lab03
