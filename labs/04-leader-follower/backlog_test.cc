#include "backlog.h"

#include <gtest/gtest.h>

namespace kv::lab04 {
namespace {

Write set(uint64_t offset, std::string value = "v") {
  return Write{offset, Write::Op::kSet, "k", std::move(value)};
}

TEST(BacklogTest, StartsEmptyAfterItsOffset) {
  Backlog backlog(41, 1 << 20);
  EXPECT_EQ(backlog.first_offset(), 42u);
  EXPECT_EQ(backlog.last_offset(), 41u);
  std::vector<Write> out;
  EXPECT_TRUE(backlog.copy_from(42, 1 << 20, out));
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(backlog.copy_from(41, 1 << 20, out));
}

TEST(BacklogTest, CopiesInOffsetOrderFromAnyHeldOffset) {
  Backlog backlog(0, 1 << 20);
  for (uint64_t i = 1; i <= 10; ++i) backlog.append(set(i));
  std::vector<Write> out;
  ASSERT_TRUE(backlog.copy_from(4, 1 << 20, out));
  ASSERT_EQ(out.size(), 7u);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].offset, 4 + i);
}

TEST(BacklogTest, TrimsTheOldestPastItsLimitButKeepsTheNewest) {
  Backlog backlog(0, 300);
  for (uint64_t i = 1; i <= 100; ++i) backlog.append(set(i));
  EXPECT_LE(backlog.bytes(), 300u);
  EXPECT_GT(backlog.first_offset(), 1u);
  EXPECT_EQ(backlog.last_offset(), 100u);
  std::vector<Write> out;
  EXPECT_FALSE(backlog.copy_from(1, 1 << 20, out));
  EXPECT_TRUE(out.empty());
  backlog.append(set(101, std::string(1000, 'x')));  // alone over the limit
  EXPECT_EQ(backlog.first_offset(), 101u);
}

TEST(BacklogTest, CopyStopsAtItsByteBudgetButTakesOne) {
  Backlog backlog(0, 1 << 20);
  for (uint64_t i = 1; i <= 5; ++i)
    backlog.append(set(i, std::string(100, 'x')));
  std::vector<Write> out;
  ASSERT_TRUE(backlog.copy_from(1, 1, out));
  EXPECT_EQ(out.size(), 1u);
}

TEST(BacklogTest, ResetStartsAgainAfterTheGivenOffset) {
  Backlog backlog(0, 1 << 20);
  backlog.append(set(1));
  backlog.reset(7);
  EXPECT_EQ(backlog.first_offset(), 8u);
  backlog.append(set(8));
  EXPECT_EQ(backlog.last_offset(), 8u);
}

TEST(BacklogDeathTest, AppendOutOfOrderIsABug) {
  Backlog backlog(0, 1 << 20);
  EXPECT_DEATH(backlog.append(set(2)), "out of order");
}

}  // namespace
}  // namespace kv::lab04
