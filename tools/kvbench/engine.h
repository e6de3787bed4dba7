// The engine: one kvbench run, in-process, so tests drive it exactly as
// main.cc does. run() connects every connection, starts --threads workers
// (worker.h), waits for the preload, starts the clock (warm-up, then the
// measured phase), reports progress, and stops on completion, on the first
// connection failure, or when stop is requested (SIGINT in main.cc), then
// merges what the workers measured into one Report.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>

#include "common/status.h"
#include "tools/kvbench/options.h"
#include "tools/kvbench/report.h"

namespace kv::kvbench {

// The live progress line's figures.
struct Progress {
  Phase phase = Phase::kConnect;
  double elapsed_s = 0;            // since the run began (after connecting)
  double ops_per_sec = 0;          // replies of any phase, last interval
  uint64_t measured_requests = 0;  // so far
  uint64_t p99_ns = 0;             // of the measured requests so far
  uint64_t errors = 0;
  uint64_t preloaded_keys = 0;
};

struct RunHooks {
  // Called on the thread that called run(), every progress_interval.
  std::function<void(const Progress&)> on_progress;
  std::chrono::nanoseconds progress_interval = std::chrono::seconds(1);
};

// kInvalidArgument for options validate() refuses; kUnavailable with
// "cannot connect to HOST:PORT: <why>" when a connection cannot be made.
// Everything that goes wrong later is in the Report (failure, errors,
// interrupted), with whatever was measured until then.
Result<Report> run(const Options& options, std::stop_token stop = {},
                   const RunHooks& hooks = {});

}  // namespace kv::kvbench
