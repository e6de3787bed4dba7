// See checker.h. The search is Lowe's formulation of Wing and Gong's
// algorithm ("Testing for linearizability", 2017), as porcupine also
// implements it: a doubly linked list of call and return events in time
// order, from which a linearized operation is lifted out (its call and its
// return) and put back on backtracking.
#include "checker.h"

#include <algorithm>
#include <map>
#include <unordered_set>

#include <fmt/format.h>

namespace kv::linearizability {
namespace {

using Clock = std::chrono::steady_clock;

struct Entry {
  int op = -1;  // index into the partition's operations
  bool is_call = false;
  Time time = 0;
  Entry* prev = nullptr;
  Entry* next = nullptr;
  Entry* match = nullptr;  // a call's return
};

// Which of a partition's operations are linearized, and the key under
// which (this set, a state) is remembered.
class OpSet {
 public:
  explicit OpSet(size_t n) : words_((n + 63) / 64, 0) {}
  void set(int i) { words_[i / 64] |= uint64_t{1} << (i % 64); }
  void reset(int i) { words_[i / 64] &= ~(uint64_t{1} << (i % 64)); }
  std::string key_with(const std::string& state) const {
    std::string key(reinterpret_cast<const char*>(words_.data()),
                    words_.size() * sizeof(uint64_t));
    return key + state;
  }

 private:
  std::vector<uint64_t> words_;
};

void lift(Entry* call) {
  call->prev->next = call->next;
  call->next->prev = call->prev;
  Entry* ret = call->match;
  ret->prev->next = ret->next;
  if (ret->next) ret->next->prev = ret->prev;
}

void unlift(Entry* call) {
  Entry* ret = call->match;
  ret->prev->next = ret;
  if (ret->next) ret->next->prev = ret;
  call->prev->next = call;
  call->next->prev = call;
}

PartitionResult check_partition(const std::string& key,
                                const std::vector<const Operation*>& ops,
                                const Model& model, const CheckOptions& options,
                                Clock::time_point deadline) {
  auto start = Clock::now();
  PartitionResult result;
  result.key = key;
  for (const Operation* op : ops) result.operations.push_back(op->id);

  // Events in time order; at equal times calls first, so that two
  // operations that touch in time count as concurrent (the permissive
  // reading: a checker must never call a correct history wrong).
  const size_t n = ops.size();
  std::vector<Entry> entries(2 * n);
  std::vector<Entry*> order;
  for (size_t i = 0; i < n; ++i) {
    Entry& call = entries[2 * i];
    Entry& ret = entries[2 * i + 1];
    call = {static_cast<int>(i), true, ops[i]->invoke, nullptr, nullptr, &ret};
    ret = {static_cast<int>(i),
           false,
           ops[i]->complete,
           nullptr,
           nullptr,
           nullptr};
    order.push_back(&call);
    order.push_back(&ret);
  }
  std::stable_sort(order.begin(), order.end(), [](Entry* a, Entry* b) {
    if (a->time != b->time) return a->time < b->time;
    return a->is_call && !b->is_call;
  });
  Entry head;
  Entry* last = &head;
  for (Entry* e : order) {
    last->next = e;
    e->prev = last;
    last = e;
  }

  struct Frame {
    Entry* call;
    std::string state;  // before the call's operation
  };
  std::vector<Frame> stack;
  std::unordered_set<std::string> seen;
  OpSet linearized(n);
  std::string state = model.initial();
  Entry* entry = head.next;
  uint64_t steps = 0;

  auto finish = [&](Verdict verdict) {
    result.verdict = verdict;
    result.steps = steps;
    result.seconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    return result;
  };

  while (head.next != nullptr) {
    if (++steps > options.step_budget) return finish(Verdict::kUnknown);
    if ((steps & 1023) == 0 && Clock::now() > deadline)
      return finish(Verdict::kUnknown);
    if (entry->is_call) {
      const Operation& op = *ops[static_cast<size_t>(entry->op)];
      std::optional<std::string> next = model.step(state, op);
      if (next) {
        linearized.set(entry->op);
        if (seen.insert(linearized.key_with(*next)).second) {
          stack.push_back({entry, state});
          state = std::move(*next);
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized.reset(entry->op);
      }
      entry = entry->next;
      continue;
    }
    // A return: its operation had to be linearized by now, and is not.
    // Remember the deepest dead end: the report of a failure.
    if (result.stuck_operation < 0 ||
        stack.size() > result.longest_prefix.size()) {
      result.longest_prefix.clear();
      for (const Frame& f : stack)
        result.longest_prefix.push_back(
            ops[static_cast<size_t>(f.call->op)]->id);
      result.state_after_prefix = model.describe(state);
      result.stuck_operation = ops[static_cast<size_t>(entry->op)]->id;
      result.unplaced.clear();
      for (Entry* e = head.next; e != nullptr && e != entry; e = e->next)
        if (e->is_call)
          result.unplaced.push_back(ops[static_cast<size_t>(e->op)]->id);
    }
    if (stack.empty()) return finish(Verdict::kNotLinearizable);
    Frame top = std::move(stack.back());
    stack.pop_back();
    state = std::move(top.state);
    linearized.reset(top.call->op);
    unlift(top.call);
    entry = top.call->next;
  }
  result.longest_prefix.clear();
  result.unplaced.clear();
  result.stuck_operation = -1;
  return finish(Verdict::kLinearizable);
}

std::string who(const Operation& op) {
  return fmt::format("{} by client {}", op.to_string(), op.client);
}

}  // namespace

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kLinearizable:
      return "linearizable";
    case Verdict::kNotLinearizable:
      return "not linearizable";
    case Verdict::kUnknown:
      return "unknown (the search ran out of budget)";
  }
  return "?";
}

CheckResult check(const History& history, const Model& model,
                  const CheckOptions& options) {
  auto start = Clock::now();
  Clock::time_point deadline = start + options.time_budget;
  std::map<std::string, std::vector<const Operation*>> by_key;
  for (const Operation& op : history.operations) by_key[op.key].push_back(&op);

  CheckResult result;
  for (auto& [key, ops] : by_key) {
    std::stable_sort(ops.begin(), ops.end(),
                     [](const Operation* a, const Operation* b) {
                       return a->invoke < b->invoke;
                     });
    PartitionResult p = check_partition(key, ops, model, options, deadline);
    result.steps += p.steps;
    if (p.verdict == Verdict::kNotLinearizable &&
        result.verdict != Verdict::kNotLinearizable) {
      result.verdict = Verdict::kNotLinearizable;
      const Operation& stuck =
          history.operations[static_cast<size_t>(p.stuck_operation)];
      std::string after = "nothing";
      if (!p.longest_prefix.empty()) {
        const Operation& last =
            history.operations[static_cast<size_t>(p.longest_prefix.back())];
        after = fmt::format("{} operations, the last {}",
                            p.longest_prefix.size(), who(last));
      }
      result.summary = fmt::format(
          "{}{} cannot take effect anywhere in its interval: at best {} can "
          "be put in an order first, leaving the {} {}",
          key.empty() ? "" : fmt::format("key \"{}\": ", key), who(stuck),
          after, model.name() == "kv" ? "value" : "register",
          p.state_after_prefix);
    } else if (p.verdict == Verdict::kUnknown &&
               result.verdict == Verdict::kLinearizable) {
      result.verdict = Verdict::kUnknown;
      result.summary = fmt::format(
          "{}the search gave up after {} steps; no verdict",
          key.empty() ? "" : fmt::format("key \"{}\": ", key), p.steps);
    }
    result.partitions.push_back(std::move(p));
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace kv::linearizability
