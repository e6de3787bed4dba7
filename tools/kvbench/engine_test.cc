// The engine over real TCP on 127.0.0.1, no mocks: lab 01's server for the
// runs that must come out clean, and FakeServers that are wrong on purpose
// for the errors that must be caught. Nothing here asserts on speed; the
// timing test asserts only directions a slow machine cannot flip.
#include "tools/kvbench/engine.h"

#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include <gtest/gtest.h>

#include "server.h"
#include "store.h"
#include "tools/kvbench/fake_server.h"
#include "tools/kvbench/value_codec.h"

namespace kv::kvbench {
namespace {

using std::chrono::milliseconds;

// Bounds a hang, never paces a test.
constexpr milliseconds kHangLimit(60000);

Options small_run(const HostPort& server, uint64_t requests) {
  Options o;
  o.server = server;
  o.requests = requests;
  o.warmup = std::chrono::nanoseconds(0);
  o.connections = 4;
  o.keys = 1000;
  o.value_size = 32;
  o.timeout = std::chrono::seconds(20);  // a loaded machine under tsan
  return o;
}

Report run_ok(const Options& options) {
  Result<Report> result = run(options);
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? std::move(result).value() : Report();
}

std::string all_examples(const Report& r) {
  std::string out;
  for (const auto& kind : r.errors.examples)
    for (const std::string& e : kind) out += e + "\n";
  return out;
}

void expect_clean(const Report& r, uint64_t requests) {
  EXPECT_EQ(r.failure, "");
  EXPECT_FALSE(r.interrupted);
  EXPECT_EQ(r.errors.total(), 0u) << all_examples(r);
  EXPECT_EQ(r.requests, requests);
  EXPECT_EQ(r.latency.count(), requests);
  EXPECT_EQ(r.gets + r.sets, requests);
  EXPECT_EQ(r.stopped_in, Phase::kDone);
  EXPECT_GT(r.elapsed_s, 0);
  EXPECT_EQ(exit_code(r), 0);
}

class Lab01Test : public ::testing::Test {
 protected:
  void SetUp() override {
    lab01::ServerOptions options;
    options.listen = {"127.0.0.1", 0};
    Result<std::unique_ptr<lab01::Server>> started =
        lab01::Server::start(options, store_);
    ASSERT_TRUE(started.ok()) << started.status().to_string();
    server_ = std::move(started).value();
  }
  void TearDown() override { server_->stop(); }

  lab01::Store store_;
  std::unique_ptr<lab01::Server> server_;
};

TEST_F(Lab01Test, ClosedLoopVerifiedPipelinedRunsAreExactAndClean) {
  for (int pipeline : {1, 16}) {
    SCOPED_TRACE(pipeline);
    Options o = small_run(server_->address(), 20000);
    o.connections = 8;
    o.threads = 2;
    o.pipeline = pipeline;
    o.verify = true;
    Report r = run_ok(o);
    expect_clean(r, 20000);
    EXPECT_EQ(r.preloaded_keys, 1000u);
    EXPECT_GT(r.gets, 0u);
    EXPECT_GT(r.sets, 0u);
    EXPECT_EQ(r.nils, 0u);
  }
  EXPECT_EQ(store_.size(), 1000u);
  // What the server holds is what kvbench wrote: self-describing values.
  std::optional<std::string> value = store_.get("key:17");
  ASSERT_TRUE(value.has_value());
  Result<ValueId> id = decode_value(*value, 32);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_EQ(id.value().key, 17u);
  EXPECT_EQ(id.value().writer, 17u % 8);
}

TEST_F(Lab01Test, ZipfianUnverifiedRunIsClean) {
  Options o = small_run(server_->address(), 10000);
  o.distribution = Distribution::kZipfian;
  o.read_ratio = 0.9;
  o.pipeline = 4;
  expect_clean(run_ok(o), 10000);
}

TEST_F(Lab01Test, OpenLoopVerifiedRunIsClean) {
  Options o = small_run(server_->address(), 1500);
  o.rate = 3000;
  o.verify = true;
  o.arrival = Arrival::kPoisson;
  Report r = run_ok(o);
  expect_clean(r, 1500);
}

TEST_F(Lab01Test, DurationRunMeasuresOnlyAfterTheWarmup) {
  Options o = small_run(server_->address(), 0);
  o.requests.reset();
  o.warmup = milliseconds(200);
  o.duration = milliseconds(300);
  o.preload = false;
  Report r = run_ok(o);
  EXPECT_EQ(r.errors.total(), 0u) << all_examples(r);
  EXPECT_GT(r.requests, 0u);
  EXPECT_GT(r.warmup_requests, 0u);
  EXPECT_GE(r.elapsed_s, 0.3);
  EXPECT_EQ(exit_code(r), 0);
}

TEST_F(Lab01Test, NilIsFineForKeysNeverWritten) {
  Options o = small_run(server_->address(), 2000);
  o.read_ratio = 1;
  o.preload = false;
  Report r = run_ok(o);
  expect_clean(r, 2000);
  EXPECT_EQ(r.nils, 2000u);
}

// A store for the fake servers: every value a key was set to, in order.
class History {
 public:
  void set(const std::string& key, const std::string& value) {
    std::lock_guard lock(mu_);
    values_[key].push_back(value);
  }
  // The value `back` places from the newest, if there is one.
  std::optional<std::string> get(const std::string& key, size_t back = 0) {
    std::lock_guard lock(mu_);
    auto it = values_.find(key);
    if (it == values_.end() || it->second.size() <= back) return std::nullopt;
    return it->second[it->second.size() - 1 - back];
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> values_;
};

// An honest server, except where `twist` says otherwise.
FakeServer::Handler store_handler(std::shared_ptr<History> history,
                                  std::function<std::optional<std::string>(
                                      const FakeServer::Request&, History&)>
                                      twist = nullptr) {
  return [history,
          twist](const FakeServer::Request& r) -> std::optional<std::string> {
    if (twist) {
      if (std::optional<std::string> reply = twist(r, *history)) return reply;
    }
    if (r.words.size() == 3 && r.words[0] == "SET") {
      history->set(r.words[1], r.words[2]);
      return kOkReply;
    }
    if (r.words.size() == 2 && r.words[0] == "GET") {
      std::optional<std::string> value = history->get(r.words[1]);
      return value ? bulk_reply(*value) : kNilReply;
    }
    return std::string("-ERR unknown command\r\n");
  };
}

TEST(FakeServerRunTest, RespProtocolRunIsCleanAndBinaryExact) {
  auto history = std::make_shared<History>();
  FakeServer server(store_handler(history));
  Options o = small_run(server.address(), 3000);
  o.protocol = Protocol::kResp;
  o.pipeline = 8;
  o.verify = true;
  o.value_size = 200;
  expect_clean(run_ok(o), 3000);
  std::optional<std::string> value = history->get("key:5");
  ASSERT_TRUE(value.has_value());
  EXPECT_TRUE(decode_value(*value, 200).ok());
}

TEST(FakeServerRunTest, ValueOfAnotherKeyIsAWrongValue) {
  auto history = std::make_shared<History>();
  FakeServer server(store_handler(
      history,
      [](const FakeServer::Request& r,
         History& h) -> std::optional<std::string> {
        if (r.words.size() != 2 || r.words[0] != "GET") return std::nullopt;
        // key:N answers with key:(N+1)'s value.
        uint64_t n = std::stoull(r.words[1].substr(4));
        std::optional<std::string> other = h.get(key_name((n + 1) % 100));
        return other ? bulk_reply(*other) : kNilReply;
      }));
  Options o = small_run(server.address(), 1000);
  o.keys = 100;
  o.read_ratio = 1;
  Report r = run_ok(o);
  EXPECT_EQ(r.requests, 1000u);
  EXPECT_EQ(r.errors.count(ErrorKind::kWrongValue), 1000u);
  EXPECT_EQ(r.errors.total(), 1000u);
  EXPECT_NE(all_examples(r).find("a value written for key:"), std::string::npos)
      << all_examples(r);
  EXPECT_EQ(exit_code(r), 1);
}

TEST(FakeServerRunTest, OlderValueIsAStaleReadUnderVerify) {
  auto history = std::make_shared<History>();
  FakeServer server(store_handler(
      history,
      [](const FakeServer::Request& r,
         History& h) -> std::optional<std::string> {
        if (r.words.size() != 2 || r.words[0] != "GET") return std::nullopt;
        // The value before the newest, when there is one: a lagging replica.
        std::optional<std::string> older = h.get(r.words[1], 1);
        return older ? std::optional(bulk_reply(*older)) : std::nullopt;
      }));
  Options o = small_run(server.address(), 4000);
  o.keys = 40;
  o.verify = true;
  o.pipeline = 4;
  Report r = run_ok(o);
  EXPECT_EQ(r.requests, 4000u);
  EXPECT_GT(r.errors.count(ErrorKind::kStaleRead), 0u);
  EXPECT_EQ(r.errors.total(), r.errors.count(ErrorKind::kStaleRead))
      << all_examples(r);
  EXPECT_NE(all_examples(r).find("but seq"), std::string::npos);
  EXPECT_EQ(exit_code(r), 1);

  // Without --verify an older value is a legitimate answer.
  o.verify = false;
  Report unverified = run_ok(o);
  EXPECT_EQ(unverified.errors.total(), 0u) << all_examples(unverified);
}

TEST(FakeServerRunTest, LostValuesAfterThePreloadAreMissing) {
  auto history = std::make_shared<History>();
  FakeServer server(store_handler(
      history,
      [](const FakeServer::Request& r, History&) -> std::optional<std::string> {
        if (r.words.size() == 2 && r.words[0] == "GET") return kNilReply;
        return std::nullopt;
      }));
  Options o = small_run(server.address(), 500);
  o.read_ratio = 1;
  Report r = run_ok(o);
  EXPECT_EQ(r.errors.count(ErrorKind::kMissingValue), 500u);
  EXPECT_EQ(exit_code(r), 1);
}

TEST(FakeServerRunTest, ErrorRepliesAreCountedWithExamples) {
  FakeServer server([](const FakeServer::Request& r) {
    return std::optional<std::string>(r.words[0] == "SET" ? "-ERR boom\r\n"
                                                          : kNilReply);
  });
  Options o = small_run(server.address(), 800);
  o.read_ratio = 0;
  o.preload = false;
  Report r = run_ok(o);
  EXPECT_EQ(r.requests, 800u);
  EXPECT_EQ(r.errors.count(ErrorKind::kErrorReply), 800u);
  EXPECT_EQ(r.errors.examples[0].size(), kExamplesPerKind);
  EXPECT_NE(all_examples(r).find("SET key:"), std::string::npos);
  EXPECT_NE(all_examples(r).find("-ERR boom"), std::string::npos);
  EXPECT_EQ(exit_code(r), 1);
}

TEST(FakeServerRunTest, MalformedReplyStopsTheRun) {
  FakeServer server([](const FakeServer::Request& r) {
    return std::optional<std::string>(r.index < 50 ? "+OK\r\n" : "+OK\n");
  });
  Options o = small_run(server.address(), 100000);
  o.connections = 1;
  o.read_ratio = 0;
  o.preload = false;
  Report r = run_ok(o);
  EXPECT_EQ(r.errors.count(ErrorKind::kMalformedReply), 1u);
  EXPECT_NE(r.failure.find("malformed"), std::string::npos) << r.failure;
  EXPECT_EQ(r.requests, 50u);
  EXPECT_EQ(exit_code(r), 1);
}

TEST(FakeServerRunTest, ExtraReplyIsCaught) {
  FakeServer server([](const FakeServer::Request& r) {
    return std::optional<std::string>(r.index == 0 ? "+OK\r\n:42\r\n"
                                                   : "+OK\r\n");
  });
  Options o = small_run(server.address(), 200);
  o.connections = 1;
  o.read_ratio = 0;
  o.preload = false;
  Report r = run_ok(o);
  EXPECT_GE(r.errors.total(), 1u);
  EXPECT_EQ(exit_code(r), 1);
}

TEST(FakeServerRunTest, NothingListeningIsAConnectError) {
  HostPort address;
  {
    Result<UniqueFd> listener = listen_tcp({"127.0.0.1", 0});
    ASSERT_TRUE(listener.ok());
    address = local_address(listener.value().get()).value();
  }  // closed: nothing listens there now
  Options o = small_run(address, 10);
  Result<Report> result = run(o);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(result.status().message(),
            "cannot connect to " + address.to_string() +
                ": Connection refused (is the server running?)");
}

TEST(FakeServerRunTest, InvalidOptionsAreRefusedBeforeConnecting) {
  Options o;
  o.read_ratio = 2;
  Result<Report> result = run(o);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

TEST(FakeServerRunTest, ServerClosingMidRunGivesThePartialResult) {
  FakeServer server([](const FakeServer::Request& r) {
    return r.index < 100 ? std::optional<std::string>(kOkReply) : std::nullopt;
  });
  Options o = small_run(server.address(), 100000);
  o.connections = 1;
  o.read_ratio = 0;
  o.preload = false;
  Report r = run_ok(o);
  EXPECT_EQ(r.requests, 100u);
  EXPECT_EQ(r.failure,
            "connection 0 was closed by the server after 100 replies (1 "
            "request outstanding)");
  EXPECT_EQ(r.errors.count(ErrorKind::kConnection), 1u);
  EXPECT_EQ(r.stopped_in, Phase::kMeasure);
  EXPECT_EQ(exit_code(r), 1);
}

TEST(FakeServerRunTest, SilentServerTimesOut) {
  FakeServer server([](const FakeServer::Request& r) {
    return std::optional<std::string>(r.index < 10 ? kOkReply : "");
  });
  Options o = small_run(server.address(), 100000);
  o.connections = 1;
  o.read_ratio = 0;
  o.preload = false;
  o.timeout = milliseconds(300);
  Report r = run_ok(o);
  EXPECT_EQ(r.requests, 10u);
  EXPECT_EQ(r.failure,
            "connection 0 got no reply within 300ms (1 request outstanding, "
            "10 replies so far)");
  EXPECT_EQ(exit_code(r), 1);
}

TEST(FakeServerRunTest, StopRequestEndsTheRunAtOnceWithPartialFigures) {
  auto history = std::make_shared<History>();
  FakeServer server(store_handler(history));
  Options o = small_run(server.address(), 0);
  o.requests.reset();
  o.duration = std::chrono::hours(1);
  o.preload = false;
  std::stop_source stop;
  std::optional<Result<Report>> result;
  std::jthread runner([&] { result.emplace(run(o, stop.get_token())); });
  ASSERT_TRUE(server.wait_for_requests(500, kHangLimit));
  stop.request_stop();
  runner.join();
  ASSERT_TRUE(result->ok());
  const Report& r = result->value();
  EXPECT_TRUE(r.interrupted);
  EXPECT_GT(r.requests, 0u);
  EXPECT_EQ(r.stopped_in, Phase::kMeasure);
  EXPECT_EQ(exit_code(r), 130);
}

TEST(FakeServerRunTest, ProgressIsReported) {
  auto history = std::make_shared<History>();
  FakeServer server(store_handler(history));
  Options o = small_run(server.address(), 3000);
  o.rate = 10000;
  RunHooks hooks;
  hooks.progress_interval = milliseconds(50);
  int calls = 0;
  hooks.on_progress = [&](const Progress& p) {
    ++calls;
    EXPECT_GE(p.elapsed_s, 0);
  };
  Result<Report> r = run(o, {}, hooks);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().errors.total(), 0u);
  // 3000 requests at 10000/s take 0.3 s at least: several intervals.
  EXPECT_GE(calls, 2);
}

// The server stalls once, for 300 ms, at request 300 of a connection.
FakeServer::Handler stall_once() {
  return [](const FakeServer::Request& r) -> std::optional<std::string> {
    if (r.index == 300) std::this_thread::sleep_for(milliseconds(300));
    return kOkReply;
  };
}

TEST(CoordinatedOmissionTest, OpenLoopSeesTheStallClosedLoopHidesIt) {
  const uint64_t kOver100ms = 100'000'000;
  Options o;
  o.connections = 1;
  o.requests = 1000;
  o.warmup = std::chrono::nanoseconds(0);
  o.read_ratio = 0;
  o.preload = false;
  o.value_size = 32;
  o.timeout = std::chrono::seconds(20);

  FakeServer open_server(stall_once());
  Options open = o;
  open.server = open_server.address();
  open.rate = 1000;  // one request per ms
  Report open_report = run_ok(open);
  ASSERT_EQ(open_report.requests, 1000u);
  ASSERT_EQ(open_report.errors.total(), 0u);

  FakeServer closed_server(stall_once());
  Options closed = o;
  closed.server = closed_server.address();
  Report closed_report = run_ok(closed);
  ASSERT_EQ(closed_report.requests, 1000u);

  uint64_t open_slow = open_report.latency.count_at_or_above(kOver100ms);
  uint64_t closed_slow = closed_report.latency.count_at_or_above(kOver100ms);
  RecordProperty("open_loop_samples_over_100ms", std::to_string(open_slow));
  RecordProperty("closed_loop_samples_over_100ms", std::to_string(closed_slow));
  // Requests scheduled during the first 200 ms of the stall are answered
  // after it ends, over 100 ms after their time: about 200 of them, and
  // only more if the machine is slow.
  EXPECT_GE(open_slow, 150u);
  // The closed loop sent nothing while it waited: the stall is one sample.
  EXPECT_GE(closed_slow, 1u);
  EXPECT_GE(closed_report.latency.max(), 300'000'000u);
  EXPECT_LT(closed_slow, open_slow);
}

TEST(CoordinatedOmissionTest,
     TheOutstandingCapDelaysRequestsButKeepsTheirTime) {
  FakeServer server(stall_once());
  Options o;
  o.server = server.address();
  o.connections = 1;
  o.requests = 1000;
  o.warmup = std::chrono::nanoseconds(0);
  o.read_ratio = 0;
  o.preload = false;
  o.value_size = 32;
  o.timeout = std::chrono::seconds(20);
  o.rate = 1000;
  o.max_outstanding = 5;
  Report r = run_ok(o);
  EXPECT_EQ(r.requests, 1000u);
  EXPECT_EQ(r.errors.total(), 0u) << all_examples(r);
  // The stall filled the window: requests due then waited for replies.
  EXPECT_GE(r.schedule.max_outstanding_hits, 1u);
  EXPECT_GE(r.schedule.max_lag_ns, 100'000'000);
  // Their latency still counts from their intended time.
  EXPECT_GE(r.latency.count_at_or_above(100'000'000), 150u);
}

}  // namespace
}  // namespace kv::kvbench
