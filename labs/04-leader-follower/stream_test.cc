// Every message round-trips, arrives in pieces, and garbage is named.
#include "stream.h"

#include <gtest/gtest.h>

namespace kv::lab04 {
namespace {

Message parse_one(const std::string& bytes) {
  ParsedMessage parsed = parse_message(bytes);
  EXPECT_EQ(parsed.kind, ParsedMessage::Kind::kMessage) << parsed.error;
  EXPECT_EQ(parsed.consumed, bytes.size());
  return parsed.message;
}

TEST(StreamTest, WritesRoundTripWithAnyBytes) {
  const std::string binary("a\0b\r\nc", 6);
  for (const Write& write : {Write{1, Write::Op::kSet, "k", "v"},
                             Write{99, Write::Op::kSet, binary, binary},
                             Write{7, Write::Op::kSet, "", ""},
                             Write{8, Write::Op::kDel, binary, ""}}) {
    std::string bytes;
    encode_write(write, bytes);
    EXPECT_EQ(std::get<Write>(parse_one(bytes)), write);
  }
}

TEST(StreamTest, HandshakeMessagesRoundTrip) {
  std::string bytes;
  encode_replicate({0xabc, 12}, bytes);
  EXPECT_EQ(std::get<ReplicateMsg>(parse_one(bytes)).position,
            (Position{0xabc, 12}));
  bytes.clear();
  encode_continue({0xabc, 12}, "127.0.0.1:7004", bytes);
  auto cont = std::get<ContinueMsg>(parse_one(bytes));
  EXPECT_EQ(cont.position, (Position{0xabc, 12}));
  EXPECT_EQ(cont.leader_address, "127.0.0.1:7004");
  bytes.clear();
  encode_fullsync({0xabc, 12}, 3, "127.0.0.1:7004", bytes);
  auto full = std::get<FullSyncMsg>(parse_one(bytes));
  EXPECT_EQ(full.count, 3u);
  bytes.clear();
  encode_ack(77, bytes);
  EXPECT_EQ(std::get<AckMsg>(parse_one(bytes)).offset, 77u);
  bytes.clear();
  encode_refused("not the leader", bytes);
  EXPECT_EQ(std::get<RefusedMsg>(parse_one(bytes)).reason, "not the leader");
}

TEST(StreamTest, AMessageCutShortNeedsMore) {
  std::string bytes;
  encode_write(Write{5, Write::Op::kSet, "key", "value"}, bytes);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    SCOPED_TRACE(cut);
    EXPECT_EQ(parse_message(bytes.substr(0, cut)).kind,
              ParsedMessage::Kind::kNeedMore);
  }
}

TEST(StreamTest, GarbageIsBad) {
  const char* cases[] = {
      "+OK\r\n",                                    // not an array
      "*1\r\n$5\r\nHELLO\r\n",                      // unknown message
      "*3\r\n$3\r\nSET\r\n$1\r\n1\r\n$1\r\nk\r\n",  // SET without a value
      "*4\r\n$3\r\nSET\r\n$1\r\n0\r\n$1\r\nk\r\n$1\r\nv\r\n",   // offset 0
      "*4\r\n$3\r\nSET\r\n$2\r\n1x\r\n$1\r\nk\r\n$1\r\nv\r\n",  // not a number
      "*2\r\n$3\r\nACK\r\n$2\r\n-1\r\n",                    // negative offset
      "*3\r\n$9\r\nREPLICATE\r\n$3\r\nabc\r\n$1\r\n0\r\n",  // short history
      "*2\r\n$3\r\nSET\r\nxx\r\n",                          // broken framing
  };
  for (const char* bytes : cases) {
    SCOPED_TRACE(bytes);
    ParsedMessage parsed = parse_message(bytes);
    EXPECT_EQ(parsed.kind, ParsedMessage::Kind::kBad);
    EXPECT_FALSE(parsed.error.empty());
  }
}

}  // namespace
}  // namespace kv::lab04
