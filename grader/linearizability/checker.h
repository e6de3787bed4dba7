// Is a history linearizable? That is: is there one order of all its
// operations, each taking effect at a single instant between its
// invocation and its completion, in which every result is what the model
// says? Checked with the Wing-Gong-Lowe search: try operations in order of
// invocation, linearize any whose effect fits, backtrack when an
// operation's completion comes before it could be placed, and remember
// every (set of linearized operations, model state) tried, so that no
// configuration is searched twice. Each key is an independent object, so
// a kv history is checked key by key: many small searches instead of one
// exponentially larger one.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "history.h"
#include "model.h"

namespace kv::linearizability {

enum class Verdict { kLinearizable, kNotLinearizable, kUnknown };
std::string_view verdict_name(Verdict verdict);  // "linearizable", ...

struct CheckOptions {
  // The search gives up with kUnknown, rather than hang, past either.
  std::chrono::milliseconds time_budget{10000};
  uint64_t step_budget = 50'000'000;
};

// One key's (one object's) result.
struct PartitionResult {
  std::string key;
  Verdict verdict = Verdict::kLinearizable;
  std::vector<int64_t> operations;  // ids, by invocation
  // Not linearizable: the longest linearizable prefix the search found,
  // ids in the order it linearized them, the state after it, and the
  // operations it could not place next: the one whose completion was
  // reached before it could take effect, and the others then pending.
  std::vector<int64_t> longest_prefix;
  std::string state_after_prefix;
  int64_t stuck_operation = -1;
  std::vector<int64_t> unplaced;
  uint64_t steps = 0;
  double seconds = 0;
};

struct CheckResult {
  Verdict verdict = Verdict::kLinearizable;
  std::vector<PartitionResult> partitions;  // by key
  uint64_t steps = 0;
  double seconds = 0;
  // One line a student can act on: "key \"k3\": get(k3) -> \"a\" by client
  // 2 cannot be placed after [put(k3, \"b\") by client 1]; the value then
  // is \"b\"".
  std::string summary;
};

CheckResult check(const History& history, const Model& model,
                  const CheckOptions& options = {});

}  // namespace kv::linearizability
