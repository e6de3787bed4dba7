// next_request on every shape of input: multibulk and inline, complete,
// cut anywhere, and hostile.
#include "request_parser.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kv::lab03 {
namespace {

using Words = std::vector<std::string>;

std::string multibulk(const Words& words) {
  std::string out = "*" + std::to_string(words.size()) + "\r\n";
  for (const std::string& w : words)
    out += "$" + std::to_string(w.size()) + "\r\n" + w + "\r\n";
  return out;
}

TEST(RequestParserTest, MultibulkRequest) {
  std::string bytes = multibulk({"SET", "k", "v"});
  Request r = next_request(bytes);
  ASSERT_EQ(r.kind, RequestKind::kRequest);
  EXPECT_EQ(r.words, (Words{"SET", "k", "v"}));
  EXPECT_EQ(r.consumed, bytes.size());
}

TEST(RequestParserTest, EveryByteValueTravels) {
  std::string value;
  for (int c = 0; c < 256; ++c) value.push_back(static_cast<char>(c));
  value += "\r\n*1\r\n$3\r\n";  // looks like framing, is data
  Request r = next_request(multibulk({"SET", std::string("k\0\n", 3), value}));
  ASSERT_EQ(r.kind, RequestKind::kRequest);
  EXPECT_EQ(r.words[1], std::string("k\0\n", 3));
  EXPECT_EQ(r.words[2], value);
}

TEST(RequestParserTest, EmptyArgumentAndLargestBulk) {
  std::string big(kMaxBulkBytes, 'x');
  Request r = next_request(multibulk({"SET", "", big}));
  ASSERT_EQ(r.kind, RequestKind::kRequest);
  EXPECT_EQ(r.words[1], "");
  EXPECT_EQ(r.words[2].size(), kMaxBulkBytes);
}

// A request arrives in pieces: every proper prefix needs more, and no
// prefix is mistaken for a request or an error.
TEST(RequestParserTest, EveryPrefixNeedsMore) {
  std::string bytes = multibulk({"SET", "key", "a\r\nb"});
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_EQ(next_request(bytes.substr(0, n)).kind, RequestKind::kNeedMore)
        << "prefix of " << n << " bytes";
  EXPECT_EQ(next_request(bytes).kind, RequestKind::kRequest);
}

TEST(RequestParserTest, PipelinedRequestsOneAtATime) {
  std::string bytes =
      multibulk({"GET", "a"}) + "PING\r\n" + multibulk({"DEL", "b"});
  std::vector<Words> seen;
  size_t pos = 0;
  while (pos < bytes.size()) {
    Request r = next_request(std::string_view(bytes).substr(pos));
    ASSERT_EQ(r.kind, RequestKind::kRequest);
    seen.push_back(r.words);
    pos += r.consumed;
  }
  EXPECT_EQ(seen, (std::vector<Words>{{"GET", "a"}, {"PING"}, {"DEL", "b"}}));
}

TEST(RequestParserTest, InlineStillWorks) {
  Request r = next_request("set k \"two words\"\r\n");
  ASSERT_EQ(r.kind, RequestKind::kRequest);
  EXPECT_EQ(r.words, (Words{"set", "k", "two words"}));
  Request bad = next_request("SET k \"open\r\nPING\r\n");
  EXPECT_EQ(bad.kind, RequestKind::kError);
  EXPECT_EQ(bad.consumed, std::string("SET k \"open\r\n").size());
}

TEST(RequestParserTest, EmptyAndNullArraysAskNothing) {
  for (std::string bytes : {"*0\r\n", "*-1\r\n"}) {
    Request r = next_request(bytes);
    EXPECT_EQ(r.kind, RequestKind::kRequest) << bytes;
    EXPECT_TRUE(r.words.empty());
    EXPECT_EQ(r.consumed, bytes.size());
  }
}

// A bad count line is skipped, and the stream goes on from the next line.
TEST(RequestParserTest, BadCountIsRecoverable) {
  for (std::string line : {"*x\r\n", "*\r\n", "*3a\r\n", "* 3\r\n"}) {
    Request r = next_request(line + "PING\r\n");
    EXPECT_EQ(r.kind, RequestKind::kError) << line;
    EXPECT_EQ(r.consumed, line.size()) << line;
    EXPECT_NE(r.error.find("multibulk length"), std::string::npos);
  }
}

// Inside an array the parser cannot tell data from framing any more.
TEST(RequestParserTest, DamageInsideAnArrayIsFatal) {
  for (std::string bytes : {
           "*2\r\n$3\r\nGET\r\n:1\r\n",   // not '$'
           "*2\r\n$3\r\nGET\r\n$x\r\n",   // bad length
           "*2\r\n$3\r\nGET\r\n$-1\r\n",  // negative length
           "*1\r\n$4\r\nPINGxx",          // no \r\n after the bulk
           "*1\r\n$4\n",                  // bare \n
           "*2\r\n\r\n",                  // empty header line
           "*1\r\n$11111111111111111111111111111111111",  // header too long
       }) {
    Request r = next_request(bytes);
    EXPECT_EQ(r.kind, RequestKind::kFatal) << bytes;
    EXPECT_FALSE(r.error.empty());
  }
}

TEST(RequestParserTest, LimitsAreFatalBeforeTheBytesArrive) {
  // Known from the headers alone: nothing is buffered first.
  Request bulk = next_request("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n");
  EXPECT_EQ(bulk.kind, RequestKind::kFatal);
  EXPECT_NE(bulk.error.find("too long"), std::string::npos);

  Request args = next_request("*1048577\r\n");
  EXPECT_EQ(args.kind, RequestKind::kFatal);

  std::string two_big = "*3\r\n$3\r\nSET\r\n$1048576\r\n" +
                        std::string(kMaxBulkBytes, 'k') + "\r\n$1048576\r\n";
  Request request = next_request(two_big);
  EXPECT_EQ(request.kind, RequestKind::kFatal);
  EXPECT_NE(request.error.find("request too long"), std::string::npos);

  Request line = next_request(std::string(lab01::kMaxInlineLineBytes + 1, 'a'));
  EXPECT_EQ(line.kind, RequestKind::kFatal);
}

TEST(RequestParserTest, SmallLimitsAreHonoured) {
  RequestLimits limits;
  limits.max_bulk_bytes = 4;
  limits.max_arguments = 2;
  EXPECT_EQ(next_request(multibulk({"GET", "abcd"}), limits).kind,
            RequestKind::kRequest);
  EXPECT_EQ(next_request(multibulk({"GET", "abcde"}), limits).kind,
            RequestKind::kFatal);
  EXPECT_EQ(next_request(multibulk({"DEL", "a", "b"}), limits).kind,
            RequestKind::kFatal);
}

}  // namespace
}  // namespace kv::lab03
