// What a grader test is and what it may use. A test is a function of a
// TestContext: it starts servers through it (so their logs land in the
// run's folder and they die with the test), draws every random choice from
// its seeded generator, and fails by calling fail() with a diagnosis in the
// student's terms. Suites (lab01_suite.cc, ...) are lists of TestCase.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "linearizability/checker.h"
#include "process.h"
#include "resp_client.h"

namespace kv::grader {

// Thrown by TestContext::fail; caught by the runner. Tests do not catch it.
struct TestFailure {
  std::string diagnosis;
};

// What the runner hands a test.
struct TestEnv {
  std::filesystem::path server_binary;
  std::filesystem::path out_dir;  // this test's folder: server logs
  uint64_t seed = 0;
  bool quick = false;  // smaller loads, same checks
  bool verbose = false;
  // What server_binary's name starts with: "", "student-", "bug-x-". The
  // lab's other programs (lab 03's client driver) are built beside it with
  // the same prefix.
  std::string target_prefix;
  // --html DIR: where failed linearizability checks write their timelines
  // (empty: the test's folder).
  std::filesystem::path html_dir;
};

class TestContext {
 public:
  explicit TestContext(TestEnv env);
  ~TestContext();

  uint64_t seed() const { return env_.seed; }
  bool quick() const { return env_.quick; }
  // This test's folder: server logs, and scratch data directories.
  const std::filesystem::path& out_dir() const { return env_.out_dir; }
  const std::filesystem::path& server_binary() const {
    return env_.server_binary;
  }
  // Another program of the copy being graded ("lab03-client-driver"), and
  // the reference's build of a program (a suite that tests a student's
  // client runs it against the reference server).
  std::filesystem::path binary(std::string_view target) const;
  std::filesystem::path reference_binary(std::string_view target) const;
  std::mt19937_64& rng() { return rng_; }
  // A uniformly random integer in [lo, hi], from the run's seed.
  int64_t uniform(int64_t lo, int64_t hi);
  // size random bytes, any value 0-255.
  std::string random_bytes(size_t size);

  // Starts the server under test on a free port and waits for PING; fails
  // the test with the reason (and the end of its log) if it cannot.
  ServerProcess& start_server(std::vector<std::string> extra_args = {},
                              std::vector<std::string> env = {});
  // The same, but a server that does not come up is an error for the
  // caller to explain ("after a power cut ..., the server ...").
  Result<ServerProcess*> try_start_server(std::vector<std::string> extra_args,
                                          std::vector<std::string> env = {});
  // start_server, of another binary (reference_binary("lab03-server")).
  ServerProcess& start_server_binary(const std::filesystem::path& binary,
                                     std::vector<std::string> extra_args);
  const std::vector<std::unique_ptr<ServerProcess>>& servers() const {
    return servers_;
  }

  // Connects or fails the test ("cannot connect to the server: ...").
  Client connect(const ServerProcess& server);
  // Sends line, returns the reply, or fails the test naming the request.
  Reply call(Client& client, std::string_view line);
  // call() and compare the reply with want, written as Reply::to_string
  // shows it: +OK  (nil)  "value"  :2  -ERR* (a trailing * matches a prefix)
  void expect(Client& client, std::string_view line, std::string_view want);
  // The next reply of a pipeline, or fail naming which one it was.
  Reply next_reply(Client& client, std::string_view what);
  // Sends bytes or fails the test.
  void send(Client& client, std::string_view bytes, std::string_view what);

  // Another process's log to list with a failure and to scan for sanitizer
  // reports, as the servers' are (lab 03's client driver).
  void add_log(std::filesystem::path log) {
    other_logs_.push_back(std::move(log));
  }
  const std::vector<std::filesystem::path>& other_logs() const {
    return other_logs_;
  }

  // Checks a recorded history (labs 04-06). When it is not linearizable,
  // writes the history (JSONL, for `grader check-history`) and its
  // timeline (HTML) and fails the test with the checker's summary and the
  // timeline's path; an undecided check fails too, saying so.
  void expect_linearizable(const linearizability::History& history,
                           const linearizability::Model& model,
                           std::string_view what);
  // The same check, for a demonstration: returns the verdict instead of
  // failing, and writes the history and its timeline (path in *timeline)
  // when it is not linearizable, or always with draw_always, so that a
  // student can look at a history that passed too.
  linearizability::CheckResult check_history(
      const linearizability::History& history,
      const linearizability::Model& model, std::string_view what,
      std::filesystem::path* timeline = nullptr, bool draw_always = false);

  // A finding a passing test reports (a demonstration's evidence: what the
  // design lost, where its timeline is). Printed under its PASS line.
  void report(std::string line) { findings_.push_back(std::move(line)); }
  const std::vector<std::string>& findings() const { return findings_; }

  // Fails the test unless the server process is still running.
  void expect_alive(ServerProcess& server, std::string_view after);

  // For -v: a line in the test's trace.
  template <typename... Args>
  void note(fmt::format_string<Args...> format, Args&&... args) {
    if (env_.verbose)
      fmt::print("      . {}\n",
                 fmt::format(format, std::forward<Args>(args)...));
  }

  [[noreturn]] void fail(std::string diagnosis);

 private:
  Result<ServerProcess*> try_start(const std::filesystem::path& binary,
                                   std::vector<std::string> extra_args,
                                   std::vector<std::string> env);

  TestEnv env_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
  std::vector<std::filesystem::path> other_logs_;
  std::vector<std::string> findings_;
  std::filesystem::path last_history_;  // check_history's JSONL
};

// Compares a reply with the textual form used by expect().
bool reply_matches(const Reply& reply, std::string_view want);

struct TestCase {
  std::string name;    // what --test takes: snake_case
  std::string checks;  // one line: the behaviour, as the handout states it
  std::function<void(TestContext&)> run;
  int points = 1;
};

// Runs fn(i) for i in [0, n) on n threads and fails the test with the first
// diagnosis a worker returned (a worker must not call fail() itself).
void run_workers(TestContext& context, int n,
                 const std::function<std::optional<std::string>(int)>& fn);

}  // namespace kv::grader
