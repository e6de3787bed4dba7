// Verdicts on single replies: what each request accepts, and the kind of
// error for everything else.
#include "tools/kvbench/reply_check.h"

#include <gtest/gtest.h>

#include "tools/kvbench/value_codec.h"

namespace kv::kvbench {
namespace {

Reply simple(std::string_view text) {
  Reply r;
  r.type = ReplyType::kSimple;
  r.text = text;
  return r;
}
Reply error(std::string_view text) {
  Reply r;
  r.type = ReplyType::kError;
  r.text = text;
  return r;
}
Reply bulk(std::string_view text) {
  Reply r;
  r.type = ReplyType::kBulk;
  r.text = text;
  return r;
}
Reply nil() { return Reply(); }
Reply integer(int64_t n) {
  Reply r;
  r.type = ReplyType::kInteger;
  r.integer = n;
  return r;
}

CheckContext plain(bool all_keys_written = false) {
  CheckContext c;
  c.connection = 2;
  c.value_size = 64;
  c.all_keys_written = all_keys_written;
  return c;
}
CheckContext verifying() {
  CheckContext c = plain();
  c.verify = true;
  return c;
}

TEST(ReplyCheckTest, SetWantsOk) {
  RequestInfo set{Op::kSet, 5, 1};
  EXPECT_TRUE(check_reply(set, simple("OK"), plain()).ok);
  Verdict v = check_reply(set, simple("QUEUED"), plain());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.kind, ErrorKind::kUnexpectedReply);
  EXPECT_EQ(check_reply(set, integer(1), plain()).kind,
            ErrorKind::kUnexpectedReply);
  EXPECT_EQ(check_reply(set, nil(), plain()).kind, ErrorKind::kUnexpectedReply);
  v = check_reply(set, error("ERR out of memory"), plain());
  EXPECT_EQ(v.kind, ErrorKind::kErrorReply);
  EXPECT_EQ(v.detail, "-ERR out of memory");
}

TEST(ReplyCheckTest, GetAcceptsAValueWrittenForItsKey) {
  std::string value = make_value({5, 9, 77}, 64);
  Verdict v = check_reply({Op::kGet, 5, 0}, bulk(value), plain(true));
  EXPECT_TRUE(v.ok) << v.detail;
  EXPECT_FALSE(v.nil);
}

TEST(ReplyCheckTest, GetRejectsWrongValues) {
  std::string other_key = make_value({6, 2, 1}, 64);
  Verdict v = check_reply({Op::kGet, 5, 0}, bulk(other_key), plain());
  EXPECT_EQ(v.kind, ErrorKind::kWrongValue);
  EXPECT_NE(v.detail.find("written for key:6"), std::string::npos) << v.detail;

  std::string value = make_value({5, 2, 1}, 64);
  std::string corrupted = value;
  corrupted[40] = corrupted[40] == 'A' ? 'B' : 'A';
  EXPECT_EQ(check_reply({Op::kGet, 5, 0}, bulk(corrupted), plain()).kind,
            ErrorKind::kWrongValue);
  EXPECT_EQ(
      check_reply({Op::kGet, 5, 0}, bulk(value.substr(0, 63)), plain()).kind,
      ErrorKind::kWrongValue);
  EXPECT_EQ(check_reply({Op::kGet, 5, 0}, bulk("hello"), plain()).kind,
            ErrorKind::kWrongValue);
  EXPECT_EQ(check_reply({Op::kGet, 5, 0}, simple("OK"), plain()).kind,
            ErrorKind::kUnexpectedReply);
  EXPECT_EQ(check_reply({Op::kGet, 5, 0}, error("ERR x"), plain()).kind,
            ErrorKind::kErrorReply);
}

TEST(ReplyCheckTest, NilIsAnErrorOnlyOnceTheKeyWasWritten) {
  Verdict v = check_reply({Op::kGet, 5, 0}, nil(), plain(false));
  EXPECT_TRUE(v.ok);
  EXPECT_TRUE(v.nil);
  v = check_reply({Op::kGet, 5, 0}, nil(), plain(true));
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.kind, ErrorKind::kMissingValue);
  EXPECT_TRUE(v.nil);
  // --verify: nil is right before this connection's first SET of the key.
  EXPECT_TRUE(check_reply({Op::kGet, 5, 0}, nil(), verifying()).ok);
  v = check_reply({Op::kGet, 5, 3}, nil(), verifying());
  EXPECT_EQ(v.kind, ErrorKind::kMissingValue);
  EXPECT_NE(v.detail.find("seq 3"), std::string::npos) << v.detail;
}

TEST(ReplyCheckTest, VerifyWantsExactlyTheLastSet) {
  CheckContext c = verifying();  // connection 2
  EXPECT_TRUE(
      check_reply({Op::kGet, 5, 7}, bulk(make_value({5, 2, 7}, 64)), c).ok);

  Verdict stale =
      check_reply({Op::kGet, 5, 7}, bulk(make_value({5, 2, 4}, 64)), c);
  EXPECT_EQ(stale.kind, ErrorKind::kStaleRead);
  EXPECT_NE(stale.detail.find("seq 4, but seq 7"), std::string::npos)
      << stale.detail;

  Verdict future =
      check_reply({Op::kGet, 5, 7}, bulk(make_value({5, 2, 9}, 64)), c);
  EXPECT_EQ(future.kind, ErrorKind::kWrongValue);

  Verdict foreign =
      check_reply({Op::kGet, 5, 7}, bulk(make_value({5, 3, 7}, 64)), c);
  EXPECT_EQ(foreign.kind, ErrorKind::kWrongValue);
  EXPECT_NE(foreign.detail.find("connection 3"), std::string::npos)
      << foreign.detail;

  // Without --verify, the same older value is legitimate.
  EXPECT_TRUE(
      check_reply({Op::kGet, 5, 0}, bulk(make_value({5, 2, 4}, 64)), plain())
          .ok);
}

TEST(ReplyCheckTest, KindNamesAreTheJsonNames) {
  EXPECT_EQ(error_kind_name(ErrorKind::kErrorReply), "error_replies");
  EXPECT_EQ(error_kind_name(ErrorKind::kStaleRead), "stale_reads");
  EXPECT_EQ(error_kind_name(ErrorKind::kWrongValue), "wrong_values");
  EXPECT_EQ(error_kind_name(ErrorKind::kConnection), "connection_errors");
}

}  // namespace
}  // namespace kv::kvbench
