// Request bytes, exactly, and a cross-check with lab 01's own inline
// parser: what kvbench sends inline is one line of three words.
#include "tools/kvbench/request.h"

#include <gtest/gtest.h>

#include "inline_parser.h"
#include "tools/kvbench/value_codec.h"
#include "tools/kvbench/workload.h"

namespace kv::kvbench {
namespace {

TEST(RequestTest, InlineBytes) {
  std::string out;
  append_get(out, Protocol::kInline, 7);
  EXPECT_EQ(out, "GET key:7\r\n");
  out.clear();
  append_set(out, Protocol::kInline, {7, 1, 2}, 20);
  EXPECT_EQ(out, "SET key:7 " + make_value({7, 1, 2}, 20) + "\r\n");
}

TEST(RequestTest, RespBytes) {
  std::string out;
  append_get(out, Protocol::kResp, 12345);
  EXPECT_EQ(out, "*2\r\n$3\r\nGET\r\n$9\r\nkey:12345\r\n");
  out.clear();
  append_set(out, Protocol::kResp, {0, 0, 1}, 24);
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$5\r\nkey:0\r\n$24\r\n" +
                     make_value({0, 0, 1}, 24) + "\r\n");
}

TEST(RequestTest, BatchesAppend) {
  std::string out;
  append_get(out, Protocol::kInline, 1);
  append_get(out, Protocol::kInline, 2);
  EXPECT_EQ(out, "GET key:1\r\nGET key:2\r\n");
}

TEST(RequestTest, InlineSetIsOneLineOfThreeWordsForLab01) {
  for (uint64_t key :
       {uint64_t{0}, uint64_t{9}, uint64_t{10}, uint64_t{999999999}}) {
    for (size_t size : {kMinValueBytes, size_t{64}, size_t{4000}}) {
      for (uint64_t seq = 1; seq < 50; ++seq) {
        std::string out;
        ValueId id{key, static_cast<uint32_t>(seq % 17), seq};
        append_set(out, Protocol::kInline, id, size);
        lab01::Frame frame = lab01::next_line(out);
        ASSERT_EQ(frame.kind, lab01::FrameKind::kLine);
        ASSERT_EQ(frame.consumed, out.size());
        Result<std::vector<std::string>> words =
            lab01::split_inline(frame.line);
        ASSERT_TRUE(words.ok()) << words.status().to_string();
        ASSERT_EQ(words.value().size(), 3u);
        EXPECT_EQ(words.value()[1], key_name(key));
        EXPECT_EQ(words.value()[2], make_value(id, size));
      }
    }
  }
}

}  // namespace
}  // namespace kv::kvbench
