// The lab 05 core suite's scenarios (tests.h names them): each builds one
// or more Worlds, drives them through a schedule of faults, and returns a
// one-line summary, or throws Violation.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace kv::raftsim {

struct Params {
  uint64_t seed = 1;
  bool quick = false;  // fewer rounds and schedules, the same checks
};

using Scenario = std::function<std::string(const Params&)>;

// nullptr for a name tests.h does not list.
const Scenario* find_scenario(std::string_view name);

// Runs random schedules for about seconds and returns the simulated
// events per second (lab05-sim --bench).
double bench_events_per_second(double seconds);

// The sum of every finished World's events and a combination of their
// digests, for the summary line.
struct Totals {
  uint64_t events = 0;
  uint64_t digest = 0;
};
Totals& totals();

}  // namespace kv::raftsim
