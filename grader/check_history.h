// `grader check-history FILE --model register|kv [--html OUT]`: the
// linearizability checker on a history of the student's own (format:
// grader/linearizability/README.md).
#pragma once

#include <chrono>
#include <string>

namespace kv::grader {

struct CheckHistoryFlags {
  std::string file;
  std::string model = "kv";
  std::string format = "auto";  // auto jepsen edn jsonl
  std::string html;             // write the timeline here
  int64_t time_budget_ms = 60000;
};

// Exit codes: 0 linearizable, 1 not, 3 unknown (out of budget), 2 a bad
// file or flag.
int check_history(const CheckHistoryFlags& flags);

}  // namespace kv::grader
