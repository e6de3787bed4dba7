// TestContext::expect_linearizable, the check the suites of labs 04-06 run
// on recorded histories: silent when the history is linearizable; else a
// failure naming the operation, with the history and its timeline written
// where the diagnosis says.
#include "suite.h"

#include <fstream>

#include <gtest/gtest.h>

#include "common/temp_dir.h"

namespace kv::grader {
namespace {

namespace lin = kv::linearizability;

lin::History stale_read() {
  lin::HistoryRecorder recorder;
  int64_t put = recorder.invoke(0, "put", "k", "new");
  recorder.ok(put);
  int64_t get = recorder.invoke(1, "get", "k");
  recorder.ok(get, "");  // after the put completed: stale
  return recorder.history();
}

TEST(ExpectLinearizableTest, SilentWhenLinearizable) {
  TempDir dir("suite-test");
  TestContext t(TestEnv{"", dir.path(), 1, false, false, "", ""});
  lin::HistoryRecorder recorder;
  int64_t put = recorder.invoke(0, "put", "k", "v");
  recorder.ok(put);
  int64_t get = recorder.invoke(1, "get", "k");
  recorder.ok(get, "v");
  EXPECT_NO_THROW(
      t.expect_linearizable(recorder.history(), *lin::kv_model(), "reads"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "history.html"));
}

TEST(ExpectLinearizableTest, FailureWritesHistoryAndTimeline) {
  TempDir dir("suite-test");
  TestContext t(TestEnv{"", dir.path(), 1, false, false, "", ""});
  try {
    t.expect_linearizable(stale_read(), *lin::kv_model(), "follower reads");
    FAIL() << "a stale read passed";
  } catch (const TestFailure& failure) {
    EXPECT_NE(failure.diagnosis.find("follower reads: not linearizable"),
              std::string::npos)
        << failure.diagnosis;
    EXPECT_NE(failure.diagnosis.find("get(\"k\") -> \"\" by client 1"),
              std::string::npos)
        << failure.diagnosis;
    EXPECT_NE(failure.diagnosis.find((dir.path() / "history.html").string()),
              std::string::npos);
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "history.html"));
  // The history file reads back as the same history.
  Result<lin::History> back = lin::read_history(dir.path() / "history.jsonl");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back.value().operations.size(), 2u);
}

TEST(ExpectLinearizableTest, HtmlDirCollectsTimelinesByTest) {
  TempDir dir("suite-test");
  std::filesystem::path out = dir.path() / "run1-stale_follower_read";
  std::filesystem::path html = dir.path() / "html";
  TestContext t(TestEnv{"", out, 1, false, false, "", html});
  EXPECT_THROW(t.expect_linearizable(stale_read(), *lin::kv_model(), "reads"),
               TestFailure);
  EXPECT_TRUE(std::filesystem::exists(html / "run1-stale_follower_read.html"));
}

}  // namespace
}  // namespace kv::grader
