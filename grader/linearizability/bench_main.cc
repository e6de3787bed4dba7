// linearizability_bench: how long the checker takes on the real corpus
// (grader/testdata/linearizability), per file and in total, for the
// figures in README.md. Never run by the tests; speed is measured, not
// asserted.
//   build/default/bin/linearizability_bench [CORPUS_DIR] [--repeat N]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "checker.h"

namespace lin = kv::linearizability;

int main(int argc, char** argv) {
  std::filesystem::path dir = KVLAB_CORPUS_DIR;
  int repeat = 5;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--repeat" && i + 1 < argc)
      repeat = std::max(1, std::atoi(argv[++i]));
    else
      dir = arg;
  }
  std::ifstream list(dir / "verdicts.tsv");
  if (!list) {
    fmt::print(stderr, "cannot read {}\n", (dir / "verdicts.tsv").string());
    return 2;
  }
  std::string line;
  std::getline(list, line);
  std::map<std::string, double> group_seconds;
  int wrong = 0;
  fmt::print("{:<28} {:>6} {:>5} {:>14} {:>12}  {}\n", "file", "ops", "keys",
             "median ms", "steps", "verdict");
  while (std::getline(list, line)) {
    std::istringstream fields(line);
    std::string file, expected;
    if (!(fields >> file >> expected)) continue;
    kv::Result<lin::History> history = lin::read_history(dir / file);
    if (!history.ok()) {
      fmt::print(stderr, "{}\n", history.status().message());
      return 2;
    }
    std::unique_ptr<lin::Model> model =
        file.starts_with("kv/") ? lin::kv_model() : lin::register_model();
    std::vector<double> times;
    lin::CheckResult result;
    for (int r = 0; r < repeat; ++r) {
      result = lin::check(history.value(), *model);
      times.push_back(result.seconds);
    }
    std::sort(times.begin(), times.end());
    double median = times[times.size() / 2];
    bool right =
        (result.verdict == lin::Verdict::kLinearizable) == (expected == "true");
    wrong += !right;
    group_seconds[file.substr(0, file.find('/'))] += median;
    fmt::print("{:<28} {:>6} {:>5} {:>14.3f} {:>12}  {}{}\n", file,
               history.value().operations.size(), result.partitions.size(),
               median * 1000, result.steps, lin::verdict_name(result.verdict),
               right ? "" : "  WRONG");
  }
  for (const auto& [group, seconds] : group_seconds)
    fmt::print("total {}: {:.3f} ms (median of {} runs per file)\n", group,
               seconds * 1000, repeat);
  return wrong == 0 ? 0 : 1;
}
