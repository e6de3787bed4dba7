// A history of concurrent operations, as clients observed them: each
// operation from its invocation to its completion, with the client that
// made it. What the linearizability checker (checker.h) reads, what the
// suites of labs 04-06 record (HistoryRecorder), and what
// `grader check-history` parses from a file.
//
// Completions, as Jepsen names them:
//   ok    it happened, with this result (a read's value)
//   fail  it certainly did not happen: dropped from the history
//   info  unknown: it may take effect at any moment after its invocation,
//         or never. Its completion time is "never", so it is concurrent
//         with everything after it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kv::linearizability {

// Times are nanoseconds on one monotonic clock, or line numbers for a
// history parsed from a log without times: only their order matters.
using Time = int64_t;
inline constexpr Time kNever = std::numeric_limits<Time>::max();

struct Operation {
  enum class Status { kOk, kInfo };

  int64_t id = 0;   // index in History::operations
  int client = 0;   // process: one outstanding operation at a time
  std::string key;  // the object; "" in a single-register history
  // register: read, write, cas; kv: get, put, append, delete
  std::string f;
  std::string arg;   // write/put/append: the value; cas: the expected one
  std::string arg2;  // cas: the new value
  // ok read/get: what it returned. A register read of a never-written
  // register returns nil (has_result false); a kv get of a missing key
  // returns "" (kv treats missing and empty alike, as the corpus does).
  bool has_result = false;
  std::string result;
  Status status = Status::kOk;
  Time invoke = 0;
  Time complete = kNever;  // kNever for info

  // For reports: "write(3)", "read() -> 3", "cas(1, 2)", "get(k) -> \"x\"".
  std::string to_string() const;
};

struct History {
  std::vector<Operation> operations;  // ordered by invoke
};

// The formats of `grader check-history` (see grader/linearizability/
// README.md for each, with examples):
//   jepsen  Jepsen's register logs: "INFO  jepsen.util - 2\t:ok\t:cas\t[3 0]"
//   edn     Jepsen/porcupine kv logs: {:process 0, :type :ok, :f :get, ...}
//   jsonl   kvlab's own: one JSON object per event, with times
// kAuto looks at the first event line.
enum class Format { kAuto, kJepsen, kEdn, kJsonl };

Result<History> parse_history(std::string_view text, Format format);
Result<History> read_history(const std::filesystem::path& path,
                             Format format = Format::kAuto);

// kvlab's JSONL, one line per event, invocations and completions in time
// order: what HistoryRecorder writes and parse_history reads back.
std::string to_jsonl(const History& history);

// Records a history as it happens, from any number of client threads.
//   auto id = recorder.invoke(3, "put", "k", "v");
//   ... do it ...
//   recorder.ok(id, "")           or recorder.info(id)   or recorder.fail(id)
class HistoryRecorder {
 public:
  using Clock = std::chrono::steady_clock;

  int64_t invoke(int client, std::string f, std::string key,
                 std::string arg = {}, std::string arg2 = {});
  // result: what a read/get returned; nullopt for a nil read.
  void ok(int64_t id, std::optional<std::string> result = std::nullopt);
  void info(int64_t id);  // outcome unknown (a timeout)
  void fail(int64_t id);  // certainly did not happen

  // Every operation so far; one still running counts as info.
  History history() const;

 private:
  Time now() const;

  mutable std::mutex mu_;
  const Clock::time_point start_ = Clock::now();
  std::vector<Operation> operations_;
  std::vector<bool> failed_;
  std::vector<bool> completed_;
};

}  // namespace kv::linearizability
