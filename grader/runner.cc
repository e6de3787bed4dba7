// See runner.h.
#include "runner.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include <fmt/color.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kv::grader {
namespace {

bool on_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

std::string painted(std::string_view text, fmt::color color) {
  if (!on_terminal()) return std::string(text);
  return fmt::format(fmt::fg(color) | fmt::emphasis::bold, "{}", text);
}

// Indents every line of a multi-line diagnosis under its FAIL line.
std::string indent(std::string_view text) {
  std::string out = "       ";
  for (char c : text) {
    out += c;
    if (c == '\n') out += "       ";
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n'))
    out.pop_back();
  return out;
}

}  // namespace

uint64_t test_seed(uint64_t run_seed, const std::string& name) {
  // FNV-1a over the name, then a splitmix64 step: stable across builds.
  uint64_t h = 1469598103934665603ULL;
  for (char c : name)
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  uint64_t z = run_seed + h + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

RunSummary run_suite(const std::vector<TestCase>& suite,
                     const std::filesystem::path& binary,
                     const RunOptions& options) {
  using Clock = std::chrono::steady_clock;
  RunSummary summary;
  auto suite_start = Clock::now();
  std::vector<const TestCase*> selected;
  for (const TestCase& test : suite)
    if (options.only.empty() ||
        std::find(options.only.begin(), options.only.end(), test.name) !=
            options.only.end())
      selected.push_back(&test);

  const int total = static_cast<int>(selected.size()) * options.runs;
  size_t width = 32;  // the names' column, so the times line up
  for (const TestCase* test : selected)
    width = std::max(width, test->name.size());
  int done = 0;
  for (int run = 0; run < options.runs; ++run) {
    uint64_t seed = options.seed + static_cast<uint64_t>(run);
    if (options.print && options.runs > 1)
      fmt::print("-- run {}/{}, seed {}\n", run + 1, options.runs, seed);
    for (const TestCase* test : selected) {
      ++done;
      if (options.print && on_terminal()) {
        fmt::print("\r\033[K[{}/{}] seed {} {} ...", done, total, seed,
                   test->name);
        std::fflush(stdout);
      }
      TestResult result;
      result.name = test->name;
      result.run = run;
      result.seed = seed;
      result.reproduce = fmt::format("{} --test {} --seed {}",
                                     options.reproduce, test->name, seed);
      result.points = test->points;

      std::filesystem::path out =
          options.out_dir / fmt::format("run{}-{}", run + 1, test->name);
      std::filesystem::create_directories(out);
      TestEnv env{binary,
                  out,
                  test_seed(seed, test->name),
                  options.quick,
                  options.verbose,
                  options.target_prefix,
                  options.html_dir};
      auto start = Clock::now();
      {
        TestContext context(env);
        try {
          test->run(context);
          result.passed = true;
        } catch (const TestFailure& failure) {
          result.diagnosis = failure.diagnosis;
          // A starter stub says which part is missing: put it first.
          for (const auto& server : context.servers()) {
            if (auto hint = find_not_implemented(server->log());
                hint &&
                failure.diagnosis.find("not implemented") == std::string::npos)
              result.diagnosis += fmt::format(" [server log: {}]", *hint);
          }
        } catch (const std::exception& e) {
          result.diagnosis = fmt::format("grader error: {}", e.what());
        }
        // Stop the servers first so that a sanitizer's exit-time report
        // (leaks, races found late) is in the log before it is read.
        for (const auto& server : context.servers()) {
          if (server->process().running())
            server->stop(SIGTERM, std::chrono::seconds(3));
          result.logs.push_back(server->log().string());
        }
        for (const std::filesystem::path& log : context.other_logs())
          result.other_logs.push_back(log.string());
        result.findings = context.findings();
        std::vector<std::string> all_logs = result.logs;
        all_logs.insert(all_logs.end(), result.other_logs.begin(),
                        result.other_logs.end());
        for (const std::string& log : all_logs) {
          if (auto report = find_sanitizer_report(log);
              report && result.passed) {
            result.passed = false;
            result.diagnosis = fmt::format(
                "the test's checks passed, but the sanitizer reported: {} "
                "(the whole report is in {})",
                *report, log);
          }
        }
      }  // servers die here, before the next test
      result.seconds =
          std::chrono::duration<double>(Clock::now() - start).count();

      if (options.print) {
        if (on_terminal()) fmt::print("\r\033[K");
        fmt::print("{} {:<{}} {:6.2f}s\n",
                   result.passed ? painted("PASS", fmt::color::green)
                                 : painted("FAIL", fmt::color::red),
                   test->name, width, result.seconds);
        if (result.passed)
          for (const std::string& finding : result.findings)
            fmt::print("{}\n", indent(finding));
        if (!result.passed) {
          fmt::print("{}\n", indent(result.diagnosis));
          if (result.logs.size() <= 3) {
            for (const std::string& log : result.logs)
              fmt::print("       server log: {}\n", log);
          } else {
            // Crash tests start dozens of servers: the last one is the
            // one that failed.
            fmt::print(
                "       server logs: {} in {}, the last {}\n",
                result.logs.size(),
                std::filesystem::path(result.logs.back())
                    .parent_path()
                    .string(),
                std::filesystem::path(result.logs.back()).filename().string());
          }
          for (const std::string& log : result.other_logs)
            fmt::print("       log: {}\n", log);
          fmt::print("       reproduce:  {}\n", result.reproduce);
        }
        std::fflush(stdout);
      }
      (result.passed ? summary.passed : summary.failed) += 1;
      summary.max_points += result.points;
      if (result.passed) summary.points += result.points;
      summary.results.push_back(std::move(result));
    }
  }
  summary.seconds =
      std::chrono::duration<double>(Clock::now() - suite_start).count();
  return summary;
}

void write_report(const std::filesystem::path& path, const std::string& lab,
                  const std::string& graded, const RunOptions& options,
                  const RunSummary& summary) {
  nlohmann::json tests = nlohmann::json::array();
  for (const TestResult& r : summary.results) {
    tests.push_back({{"name", r.name},
                     {"run", r.run + 1},
                     {"seed", r.seed},
                     {"passed", r.passed},
                     {"seconds", r.seconds},
                     {"diagnosis", r.diagnosis},
                     {"logs", r.logs},
                     {"other_logs", r.other_logs},
                     {"findings", r.findings},
                     {"reproduce", r.reproduce}});
  }
  nlohmann::json report = {
      {"lab", lab},
      {"graded", graded},
      {"seed", options.seed},
      {"runs", options.runs},
      {"quick", options.quick},
      {"passed", summary.passed},
      {"failed", summary.failed},
      {"points", summary.points},
      {"max_points", summary.max_points},
      {"seconds", summary.seconds},
      {"tests", tests},
  };
  std::ofstream out(path);
  out << report.dump(2) << "\n";
}

}  // namespace kv::grader
