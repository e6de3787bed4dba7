// See selftest.h.
#include "selftest.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "process.h"
#include "runner.h"

namespace kv::grader {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Makes `to` hold exactly the files of `from`, rewriting only files whose
// bytes changed, so that an unchanged bug copy is not recompiled.
void sync_tree(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  std::vector<fs::path> keep;
  for (const auto& entry : fs::recursive_directory_iterator(from)) {
    if (!entry.is_regular_file()) continue;
    fs::path relative = fs::relative(entry.path(), from);
    keep.push_back(relative);
    std::string bytes = read_file(entry.path());
    fs::path target = to / relative;
    if (fs::exists(target) && read_file(target) == bytes) continue;
    fs::create_directories(target.parent_path());
    std::ofstream(target, std::ios::binary) << bytes;
  }
  std::vector<fs::path> stale;
  for (const auto& entry : fs::recursive_directory_iterator(to))
    if (entry.is_regular_file() &&
        std::find(keep.begin(), keep.end(), fs::relative(entry.path(), to)) ==
            keep.end())
      stale.push_back(entry.path());
  for (const fs::path& p : stale) fs::remove(p);
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::istringstream in{std::string(text)};
  std::string word;
  while (in >> word) words.push_back(word);
  return words;
}

// Copies reference, applies the bug's patch and syncs the result into
// extra (a scratch copy the superbuild adds with the prefix bug-<name>-).
// Patches name files as a/<two folders>/<file> (a/labs/02-wal/x.cc,
// a/grader/linearizability/x.cc): three parts are stripped. Prints BROKEN
// and returns false when the patch does not apply.
bool stage_bug(const Workspace& ws, const KnownBug& bug,
               const fs::path& reference, const fs::path& extra) {
  fs::path staging =
      ws.build_dir / "selftest-staging" / bug.name / reference.filename();
  fs::remove_all(staging);
  fs::create_directories(staging);
  fs::copy(reference, staging, fs::copy_options::recursive);
  Status applied =
      run_command({"patch", "--batch", "--silent", "--no-backup-if-mismatch",
                   "--reject-file=-", "-p3", "-d", staging.string(), "-i",
                   bug.patch.string()},
                  staging.parent_path() / "patch.log");
  if (!applied.ok()) {
    fmt::print("BROKEN {:<24} the patch no longer applies to {}:\n{}", bug.name,
               reference.string(),
               tail_of_file(staging.parent_path() / "patch.log", 10));
    return false;
  }
  sync_tree(staging, extra);
  return true;
}

// The bugs --bug names, or all of them.
std::vector<KnownBug> selected(std::vector<KnownBug> bugs,
                               const SelftestOptions& options) {
  if (options.bugs.empty()) return bugs;
  std::erase_if(bugs, [&](const KnownBug& bug) {
    return std::find(options.bugs.begin(), options.bugs.end(), bug.name) ==
           options.bugs.end();
  });
  return bugs;
}

struct Tally {
  int caught = 0;
  int missed = 0;
  int references_failed = 0;
};

// The linearizability checker's known bugs (grader/bugs/checker/): each is
// a wrong checker, built as bug-<name>-linearizability_tests, and caught
// when the checker's own tests fail on it. The labs' suites of 04-06 trust
// the checker; these make sure its tests would notice a wrong one.
bool run_checker_selftest(const Workspace& ws, const SelftestOptions& options,
                          Tally& tally) {
  Result<std::vector<KnownBug>> loaded =
      load_known_bugs_in(ws.root / "grader" / "bugs" / "checker");
  if (!loaded.ok()) {
    fmt::print("selftest: {}\n", loaded.status().message());
    return false;
  }
  std::vector<KnownBug> bugs = selected(std::move(loaded).value(), options);
  fmt::print("== checker: the reference and {} known bugs\n", bugs.size());
  const fs::path reference = ws.root / "grader" / "linearizability";
  const std::string tests = "linearizability_tests";
  std::vector<std::string> targets = {tests};
  std::vector<const KnownBug*> staged;
  for (const KnownBug& bug : bugs) {
    fs::path extra =
        ws.build_dir / "extra-labs" / ("bug-" + bug.name) / "linearizability";
    if (!stage_bug(ws, bug, reference, extra)) {
      ++tally.missed;
      continue;
    }
    targets.push_back(fmt::format("bug-{}-{}", bug.name, tests));
    staged.push_back(&bug);
  }
  fmt::print("building the reference and {} bug variants ...\n", staged.size());
  std::fflush(stdout);
  if (Status built = ws.build(targets); !built.ok()) {
    fmt::print("selftest: {}\n", built.message());
    return false;
  }
  fs::path runs = ws.build_dir / "grader-runs" / "selftest" / "checker";
  fs::create_directories(runs);
  if (Status ran =
          run_command({ws.binary(tests).string()}, runs / "reference.log");
      ran.ok()) {
    fmt::print("PASS   reference                {} passes\n", tests);
  } else {
    ++tally.references_failed;
    fmt::print("FAIL   reference                {} fails: see {}\n", tests,
               (runs / "reference.log").string());
  }
  for (const KnownBug* bug : staged) {
    std::vector<std::string> argv = {
        ws.binary(fmt::format("bug-{}-{}", bug->name, tests)).string()};
    if (!options.full)
      argv.push_back(
          fmt::format("--gtest_filter={}", fmt::join(bug->caught_by, ":")));
    fs::path log = runs / (bug->name + ".log");
    if (!run_command(argv, log).ok()) {
      ++tally.caught;
      fmt::print("CAUGHT {:<24} by {} (log: {})\n", bug->name,
                 fmt::join(bug->caught_by, ", "), log.string());
    } else {
      ++tally.missed;
      fmt::print("MISSED {:<24} its tests pass on it ({}); it would:{}\n",
                 bug->name, fmt::join(bug->caught_by, ", "), bug->student_sees);
    }
    std::fflush(stdout);
  }
  return true;
}

}  // namespace

Result<std::vector<KnownBug>> load_known_bugs(const Workspace& ws,
                                              const LabInfo& lab) {
  return load_known_bugs_in(ws.root / "grader" / "bugs" / lab.id);
}

Result<std::vector<KnownBug>> load_known_bugs_in(const fs::path& dir) {
  std::vector<KnownBug> bugs;
  if (!fs::exists(dir)) return bugs;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".patch") continue;
    KnownBug bug;
    bug.name = entry.path().stem().string();
    bug.patch = entry.path();
    std::istringstream in(read_file(entry.path()));
    std::string line;
    while (std::getline(in, line) && line.starts_with("#")) {
      if (line.starts_with("# student sees:"))
        bug.student_sees = line.substr(15);
      else if (line.starts_with("# caught by:"))
        bug.caught_by = split_words(line.substr(12));
    }
    if (bug.student_sees.empty() || bug.caught_by.empty())
      return Status::invalid_argument(fmt::format(
          "{}: the header needs '# student sees:' and '# caught by:' lines",
          entry.path().string()));
    bugs.push_back(std::move(bug));
  }
  std::sort(bugs.begin(), bugs.end(), [](const KnownBug& a, const KnownBug& b) {
    return a.name < b.name;
  });
  return bugs;
}

int run_selftest(const Workspace& ws, const SelftestOptions& options) {
  int bugs_caught = 0, bugs_missed = 0, references_failed = 0;
  fs::path runs = ws.build_dir / "grader-runs" / "selftest";
  fs::remove_all(runs);

  for (const LabInfo& lab : all_labs()) {
    if (!lab.suite) continue;
    if (!options.labs.empty() &&
        std::find(options.labs.begin(), options.labs.end(), lab.id) ==
            options.labs.end())
      continue;
    Result<std::vector<KnownBug>> loaded = load_known_bugs(ws, lab);
    if (!loaded.ok()) {
      fmt::print("selftest: {}\n", loaded.status().message());
      return 1;
    }
    std::vector<KnownBug> bugs = selected(std::move(loaded).value(), options);
    std::vector<TestCase> suite = lab.suite();
    fmt::print("== {}: the reference and {} known bugs (seed {})\n", lab.id,
               bugs.size(), options.seed);

    // Stage each patched copy, then build them all in one CMake call.
    std::vector<std::string> targets = lab.build_targets("");
    std::vector<std::string> unusable;
    for (const KnownBug& bug : bugs) {
      if (!stage_bug(ws, bug, ws.reference_dir(lab),
                     ws.extra_dir("bug-" + bug.name, lab))) {
        unusable.push_back(bug.name);
        continue;
      }
      for (const std::string& target :
           lab.build_targets(fmt::format("bug-{}-", bug.name)))
        if (std::find(targets.begin(), targets.end(), target) == targets.end())
          targets.push_back(target);
    }
    fmt::print("building the reference and {} bug variants ...\n",
               bugs.size() - unusable.size());
    std::fflush(stdout);
    if (Status built = ws.build(targets); !built.ok()) {
      fmt::print("selftest: {}\n", built.message());
      return 1;
    }
    bugs_missed += static_cast<int>(unusable.size());

    // The reference passes every test.
    RunOptions reference;
    reference.seed = options.seed;
    reference.print = options.verbose;
    reference.reproduce = fmt::format("grader {} --reference", lab.id);
    reference.out_dir = runs / lab.id / "reference";
    RunSummary ref = run_suite(suite, ws.binary(lab.server_target), reference);
    if (ref.failed == 0) {
      fmt::print("PASS   reference                passed all {} tests\n",
                 ref.passed);
    } else {
      ++references_failed;
      for (const TestResult& r : ref.results)
        if (!r.passed)
          fmt::print(
              "FAIL   reference                {}: {}\n       reproduce: {}\n",
              r.name, r.diagnosis, r.reproduce);
    }

    for (const KnownBug& bug : bugs) {
      if (std::find(unusable.begin(), unusable.end(), bug.name) !=
          unusable.end())
        continue;
      RunOptions run;
      run.seed = options.seed;
      run.print = options.verbose;
      if (!options.full) run.only = bug.caught_by;
      run.out_dir = runs / lab.id / bug.name;
      run.reproduce = fmt::format("grader selftest --bug {}", bug.name);
      run.target_prefix = fmt::format("bug-{}-", bug.name);
      std::string target =
          fmt::format("bug-{}-{}", bug.name, lab.server_target);
      RunSummary summary = run_suite(suite, ws.binary(target), run);
      std::vector<std::string> caught;
      std::string first_diagnosis;
      for (const TestResult& r : summary.results)
        if (!r.passed) {
          caught.push_back(r.name);
          if (first_diagnosis.empty()) first_diagnosis = r.diagnosis;
        }
      if (!caught.empty()) {
        ++bugs_caught;
        fmt::print("CAUGHT {:<24} by {}\n", bug.name, fmt::join(caught, ", "));
        if (options.verbose)
          fmt::print("       student sees:{}\n       first diagnosis: {}\n",
                     bug.student_sees, first_diagnosis.substr(0, 300));
      } else {
        ++bugs_missed;
        fmt::print(
            "MISSED {:<24} no test failed ({}); a student would see:{}\n",
            bug.name,
            options.full
                ? "whole suite"
                : fmt::format("ran {}", fmt::join(bug.caught_by, ", ")),
            bug.student_sees);
      }
      std::fflush(stdout);
    }
  }
  if (options.labs.empty() ||
      std::find(options.labs.begin(), options.labs.end(), "checker") !=
          options.labs.end()) {
    Tally tally;
    if (!run_checker_selftest(ws, options, tally)) return 1;
    bugs_caught += tally.caught;
    bugs_missed += tally.missed;
    references_failed += tally.references_failed;
  }
  int passed = bugs_caught + (references_failed == 0 ? 1 : 0);
  int failed = bugs_missed + references_failed;
  fmt::print("selftest: {} bugs caught, {} missed; reference {}\n", bugs_caught,
             bugs_missed, references_failed == 0 ? "passed" : "FAILED");
  fmt::print("{} passed, {} failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace kv::grader
