// See check_history.h.
#include "check_history.h"

#include <fmt/format.h>

#include "linearizability/checker.h"
#include "linearizability/timeline.h"

namespace kv::grader {

namespace lin = kv::linearizability;

int check_history(const CheckHistoryFlags& flags) {
  lin::Format format = flags.format == "jepsen"  ? lin::Format::kJepsen
                       : flags.format == "edn"   ? lin::Format::kEdn
                       : flags.format == "jsonl" ? lin::Format::kJsonl
                                                 : lin::Format::kAuto;
  std::unique_ptr<lin::Model> model = lin::model_named(flags.model);
  if (!model) {
    fmt::print(stderr, "grader: --model must be register or kv\n");
    return 2;
  }
  Result<lin::History> history = lin::read_history(flags.file, format);
  if (!history.ok()) {
    fmt::print(stderr, "grader: {}\n", history.status().message());
    return 2;
  }
  for (const lin::Operation& op : history.value().operations)
    if (Status s = model->validate(op); !s.ok()) {
      fmt::print(stderr, "grader: {}: operation {} ({}): {}\n", flags.file,
                 op.id, op.to_string(), s.message());
      return 2;
    }
  lin::CheckOptions options;
  options.time_budget = std::chrono::milliseconds(flags.time_budget_ms);
  lin::CheckResult result = lin::check(history.value(), *model, options);

  size_t bad = 0;
  for (const lin::PartitionResult& p : result.partitions)
    bad += p.verdict != lin::Verdict::kLinearizable;
  fmt::print("{}: {} operations, {} {}, {} model: {}\n", flags.file,
             history.value().operations.size(), result.partitions.size(),
             result.partitions.size() == 1 ? "object" : "keys", model->name(),
             lin::verdict_name(result.verdict));
  if (result.verdict != lin::Verdict::kLinearizable) {
    if (result.partitions.size() > 1)
      fmt::print("  {} of {} keys fail\n", bad, result.partitions.size());
    fmt::print("  {}\n", result.summary);
  }
  fmt::print("  checked in {:.2f} ms ({} search steps)\n",
             result.seconds * 1000, result.steps);
  if (!flags.html.empty()) {
    if (Status s = lin::write_timeline(flags.html, history.value(), result,
                                       flags.file);
        !s.ok()) {
      fmt::print(stderr, "grader: {}\n", s.message());
      return 2;
    }
    fmt::print("  timeline: {}\n", flags.html);
  }
  switch (result.verdict) {
    case lin::Verdict::kLinearizable:
      return 0;
    case lin::Verdict::kNotLinearizable:
      return 1;
    case lin::Verdict::kUnknown:
      return 3;
  }
  return 3;
}

}  // namespace kv::grader
