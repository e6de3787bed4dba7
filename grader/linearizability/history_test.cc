// Parsing the three history formats, and the recorder, on small inputs,
// including the irregular spacing real logs have.
#include "history.h"

#include <thread>

#include <gtest/gtest.h>

namespace kv::linearizability {
namespace {

TEST(HistoryTest, JepsenLogWithTabsAndSpaces) {
  Result<History> h = parse_history(
      "2015-01-01 header line that is not an event\n"
      "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
      "INFO  jepsen.util - 1   :invoke   :cas   [3 0]\n"
      "INFO  jepsen.util - 0\t:ok\t:read\t3\n"
      "INFO  jepsen.util - 2\t:invoke\t:write\t4\n"
      "INFO  jepsen.util - 1   :fail   :cas   [3 0]\n"
      "INFO  jepsen.util - 2\t:info\t:write\t:timed-out\n"
      "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n",
      Format::kAuto);
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  const auto& ops = h.value().operations;
  ASSERT_EQ(ops.size(), 2u);  // the failed cas is dropped
  EXPECT_EQ(ops[0].to_string(), "read() -> \"3\"");
  EXPECT_EQ(ops[0].status, Operation::Status::kOk);
  EXPECT_LT(ops[0].invoke, ops[0].complete);
  EXPECT_EQ(ops[1].to_string(), "write(\"4\") -> ?");
  EXPECT_EQ(ops[1].complete, kNever);
}

TEST(HistoryTest, ReadOfNilHasNoResult) {
  Result<History> h = parse_history(
      "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
      "INFO  jepsen.util - 0\t:ok\t:read\tnil\n",
      Format::kJepsen);
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(h.value().operations[0].has_result);
}

TEST(HistoryTest, EdnKvLog) {
  Result<History> h = parse_history(
      "{:process 0, :type :invoke, :f :append, :key \"4\", :value \"x 0 1 "
      "y\"}\n"
      "{:process 1, :type :invoke, :f :get, :key \"4\", :value nil}\n"
      "{:process 0, :type :ok, :f :append, :key \"4\", :value \"x 0 1 y\"}\n"
      "{:process 1, :type :ok, :f :get, :key \"4\", :value \"x \\\"q\\\"\"}\n"
      "{:process 2, :type :invoke, :f :put, :key \"5\", :value \"z\"}\n",
      Format::kAuto);
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  const auto& ops = h.value().operations;
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0].key, "4");
  EXPECT_EQ(ops[0].arg, "x 0 1 y");
  EXPECT_EQ(ops[1].result, "x \"q\"");
  EXPECT_EQ(ops[2].status, Operation::Status::kInfo);  // never completed
}

TEST(HistoryTest, MalformedInputIsAnErrorNamingTheLine) {
  struct Case {
    std::string text, want;
  };
  for (const Case& c : std::vector<Case>{
           {"INFO  jepsen.util - 0\t:ok\t:read\t3\n", "line 1"},
           {"INFO  jepsen.util - 0\t:invoke\t:incr\t1\n", "unknown register"},
           {"INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
            "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n",
            "outstanding"},
           {"{:process 0, :type :invoke, :f :get, :key \"4\"\n",
            "unterminated"},
           {"{:process 0, :type :invoke, :f :incr}\n", "unknown kv"},
           {"{\"client\": 0, \"type\": \"invoke\"}\n", "line 1"},
       }) {
    Result<History> h = parse_history(c.text, Format::kAuto);
    ASSERT_FALSE(h.ok()) << c.text;
    EXPECT_NE(h.status().message().find(c.want), std::string::npos)
        << h.status().message();
  }
}

TEST(HistoryTest, RecorderRoundTripsThroughJsonl) {
  HistoryRecorder recorder;
  std::vector<std::thread> threads;
  for (int client = 0; client < 4; ++client)
    threads.emplace_back([&, client] {
      for (int i = 0; i < 50; ++i) {
        int64_t put = recorder.invoke(client, "put", "k", "v");
        recorder.ok(put);
        int64_t get = recorder.invoke(client, "get", "k");
        if (i % 10 == 9)
          recorder.info(get);
        else
          recorder.ok(get, "v");
      }
      int64_t failed = recorder.invoke(client, "put", "k", "never");
      recorder.fail(failed);
    });
  for (auto& t : threads) t.join();
  History h = recorder.history();
  ASSERT_EQ(h.operations.size(), 400u);
  Result<History> back = parse_history(to_jsonl(h), Format::kAuto);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  ASSERT_EQ(back.value().operations.size(), h.operations.size());
  size_t infos = 0;
  for (const Operation& op : back.value().operations)
    infos += op.status == Operation::Status::kInfo;
  EXPECT_EQ(infos, 20u);
}

}  // namespace
}  // namespace kv::linearizability
