// Report: what a run measured, and its two renderings: the human table
// (stdout by default) and one JSON object (--json). The engine fills it;
// main.cc prints it and turns it into the exit code.
//
// JSON fields (stable; add, never rename):
//   config            every option of the run: server, protocol, mode
//                     ("closed"|"open"), connections, pipeline, threads,
//                     duration_s or requests, warmup_s, keys, value_size,
//                     read_ratio, distribution, zipf_theta, seed, preload,
//                     rate, arrival, max_outstanding, verify, timeout_s
//   ops_per_sec       measured requests / elapsed_s
//   requests          measured requests answered (warm-up and preload not
//                     counted); gets, sets, nils split them
//   elapsed_s         from the start of the measured phase to its last
//                     reply (or to the stop, if the run stopped early)
//   latency_us        {p50, p90, p99, p999, max, mean, min}, microseconds;
//                     each percentile within 1/256 of the true sample
//   errors            {total, error_replies, unexpected_replies,
//                     wrong_values, missing_values, stale_reads,
//                     malformed_replies, connection_errors}
//   error_examples    the first few messages of each kind
//   failure           why the run stopped early (a connection closed or
//                     timed out, a malformed reply), or null
//   interrupted       SIGINT/SIGTERM stopped the run; the figures are
//                     partial
//   stopped_in        the phase the run ended in: "connect", "preload",
//                     "warmup", "measure", "drain", "done"
//   preloaded_keys, warmup_requests
//   behind_schedule   open loop only, else null: {max_ms, late_requests
//                     (sent >= 1 ms after their intended time),
//                     late_threshold_ms, max_outstanding_hits}
//   exit_code         what kvbench exits with for this report
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/kvbench/histogram.h"
#include "tools/kvbench/options.h"
#include "tools/kvbench/reply_check.h"

namespace kv::kvbench {

enum class Phase { kConnect, kPreload, kWarmup, kMeasure, kDrain, kDone };
std::string_view phase_name(Phase phase);

inline constexpr size_t kExamplesPerKind = 3;
// A request sent this long after its intended time counts as late.
inline constexpr int64_t kLateThresholdNs = 1000000;

struct ErrorSummary {
  std::array<uint64_t, kErrorKinds> counts{};
  // Per kind, the first kExamplesPerKind messages.
  std::array<std::vector<std::string>, kErrorKinds> examples;

  void add(ErrorKind kind, std::string message);
  void merge(const ErrorSummary& other);
  uint64_t count(ErrorKind kind) const {
    return counts[static_cast<size_t>(kind)];
  }
  uint64_t total() const;
};

// Open loop: how well the generator kept to its schedule.
struct ScheduleStats {
  int64_t max_lag_ns = 0;             // worst send time - intended time
  uint64_t late_requests = 0;         // sent >= kLateThresholdNs late
  uint64_t max_outstanding_hits = 0;  // a connection at the cap had a
                                      // request due, which then waited

  void merge(const ScheduleStats& other);
};

struct Report {
  Options options;
  uint64_t requests = 0;  // measured, answered
  uint64_t gets = 0;
  uint64_t sets = 0;
  uint64_t nils = 0;  // GETs answered (nil)
  double elapsed_s = 0;
  Histogram latency;  // nanoseconds, measured requests only
  uint64_t preloaded_keys = 0;
  uint64_t warmup_requests = 0;
  ErrorSummary errors;
  ScheduleStats schedule;  // open loop only
  std::string failure;     // empty unless the run stopped on an error
  bool interrupted = false;
  Phase stopped_in = Phase::kDone;

  double ops_per_sec() const {
    return elapsed_s > 0 ? static_cast<double>(requests) / elapsed_s : 0;
  }
};

// 0: completed without errors of any kind; 1: errors or wrong replies were
// found, or the run stopped on one; 130: interrupted (SIGINT/SIGTERM).
int exit_code(const Report& report);

std::string format_table(const Report& report);
nlohmann::json to_json(const Report& report);

}  // namespace kv::kvbench
