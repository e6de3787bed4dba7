// Runs a suite against one server binary and reports as DESIGN §6 says:
// one line per test (PASS/FAIL, name, time), on failure a diagnosis, the
// server logs and the exact command that reproduces it; a summary; JSON
// with --report. Progress on a terminal, plain lines elsewhere.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "suite.h"

namespace kv::grader {

struct RunOptions {
  std::vector<std::string> only;  // test names; empty means all
  uint64_t seed = 0;              // run i uses seed + i
  int runs = 1;
  bool quick = false;
  bool verbose = false;
  bool print = true;               // false: quiet (selftest's inner runs)
  std::string reproduce;           // "grader lab01 --reference", say
  std::filesystem::path out_dir;   // where servers' logs go
  std::string target_prefix;       // the binary's: "", "student-", "bug-x-"
  std::filesystem::path html_dir;  // --html: timelines of failed checks
};

struct TestResult {
  std::string name;
  int run = 0;
  uint64_t seed = 0;
  bool passed = false;
  double seconds = 0;
  std::string diagnosis;
  std::vector<std::string> logs;  // the servers'
  std::vector<std::string>
      other_logs;  // other processes' (TestContext::add_log)
  std::string reproduce;
  int points = 0;
  std::vector<std::string> findings;  // TestContext::report
};

struct RunSummary {
  int passed = 0;
  int failed = 0;
  int points = 0;
  int max_points = 0;
  double seconds = 0;
  std::vector<TestResult> results;
};

// The seed a test gets in a run: the run's seed mixed with its name, so
// `--test NAME --seed S` replays exactly what the full run did for NAME.
uint64_t test_seed(uint64_t run_seed, const std::string& name);

RunSummary run_suite(const std::vector<TestCase>& suite,
                     const std::filesystem::path& binary,
                     const RunOptions& options);

// Writes the --report JSON.
void write_report(const std::filesystem::path& path, const std::string& lab,
                  const std::string& graded, const RunOptions& options,
                  const RunSummary& summary);

}  // namespace kv::grader
