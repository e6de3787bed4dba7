// plan_sync's cases, one per way a follower can stand against its leader,
// and the stored form of a position.
#include "position.h"

#include <gtest/gtest.h>

namespace kv::lab04 {
namespace {

using Kind = SyncPlan::Kind;

constexpr HistoryId kOld = 0x1111;
constexpr HistoryId kNew = 0x2222;

TEST(PositionTest, EncodesAndDecodes) {
  Position p{0x00ab00cd00ef0012, 42};
  EXPECT_EQ(encode_position(p), "00ab00cd00ef0012 42");
  EXPECT_EQ(decode_position(encode_position(p)), p);
  for (std::string_view bad :
       {"", "00ab00cd00ef0012", "00ab00cd00ef0012 ", "00ab 42",
        "00ab00cd00ef0012 4x", "zzab00cd00ef0012 42", "00ab00cd00ef0012 -1"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(decode_position(bad));
  }
}

TEST(PositionTest, ReservedKeysStartWithNul) {
  EXPECT_TRUE(is_reserved_key(kPositionKey));
  EXPECT_TRUE(is_reserved_key(kPreviousKey));
  EXPECT_FALSE(is_reserved_key("kvlab04:position"));
  EXPECT_FALSE(is_reserved_key(std::string_view("\0other", 6)));
}

TEST(PlanSyncTest, Cases) {
  const LeaderView leader{{kNew, 100}, {kOld, 60}, 50};
  struct Case {
    const char* name;
    Position follower;
    Kind want;
  };
  const Case cases[] = {
      {"caught up", {kNew, 100}, Kind::kContinue},
      {"behind, in the backlog", {kNew, 70}, Kind::kContinue},
      {"at the backlog's first offset minus one", {kNew, 49}, Kind::kContinue},
      {"behind the backlog", {kNew, 48}, Kind::kFull},
      {"ahead of the leader", {kNew, 101}, Kind::kFull},
      {"no history", {kNoHistory, 0}, Kind::kFull},
      {"unknown history", {0x3333, 10}, Kind::kFull},
      {"previous history, up to the fork", {kOld, 60}, Kind::kContinue},
      {"previous history, behind the fork", {kOld, 55}, Kind::kContinue},
      {"previous history, past the fork", {kOld, 61}, Kind::kFull},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SyncPlan plan = plan_sync(leader, c.follower);
    EXPECT_EQ(plan.kind, c.want) << plan.reason;
    EXPECT_FALSE(plan.reason.empty());
  }
}

TEST(PlanSyncTest, EmptyBacklogAfterRestartServesOnlyACaughtUpFollower) {
  // A leader that restarted at offset 80 has an empty backlog.
  const LeaderView leader{{kNew, 80}, {}, 81};
  EXPECT_EQ(plan_sync(leader, {kNew, 80}).kind, Kind::kContinue);
  EXPECT_EQ(plan_sync(leader, {kNew, 79}).kind, Kind::kFull);
}

TEST(PlanSyncTest, NoPreviousHistoryMatchesNothing) {
  const LeaderView leader{{kNew, 10}, {}, 1};
  EXPECT_EQ(plan_sync(leader, {kNoHistory, 0}).kind, Kind::kFull);
}

}  // namespace
}  // namespace kv::lab04
