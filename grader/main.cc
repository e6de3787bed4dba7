// grader: builds and grades a lab (the student's copy or the reference),
// makes starter copies, diffs them, and checks its own suites. The command
// line is DESIGN §6; `grader --help` and each subcommand's --help list it.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <random>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "check_history.h"
#include "process.h"
#include "runner.h"
#include "selftest.h"
#include "starter.h"
#include "suites.h"
#include "workspace.h"

namespace kv::grader {
namespace {

namespace fs = std::filesystem;

struct GradeFlags {
  std::string impl;
  bool reference = false;
  std::vector<std::string> tests;
  std::optional<uint64_t> seed;
  int runs = 1;
  bool quick = false;
  bool list = false;
  std::string report;
  std::string html;
  bool verbose = false;
  bool no_build = false;
};

uint64_t fresh_seed() {
  std::random_device device;
  return device() % 100000;  // short enough to type back
}

std::string timestamp() {
  std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d-%H%M%S", std::localtime(&now));
  return fmt::format("{}-{}", text, ::getpid());
}

int grade(const Workspace& ws, const LabInfo& lab, const GradeFlags& flags) {
  if (!lab.suite) {
    fmt::print(stderr,
               "grader: {} has no suite in this version of kvlab yet; see "
               "README.md's lab map\n",
               lab.id);
    return 2;
  }
  std::vector<TestCase> suite = lab.suite();
  if (flags.list) {
    size_t width = 32;
    for (const TestCase& test : suite)
      width = std::max(width, test.name.size());
    for (const TestCase& test : suite)
      fmt::print("{:<{}} {}\n", test.name, width, test.checks);
    return 0;
  }
  for (const std::string& name : flags.tests) {
    if (std::none_of(suite.begin(), suite.end(),
                     [&](const TestCase& t) { return t.name == name; })) {
      fmt::print(stderr, "grader: {} has no test '{}' (see grader {} --list)\n",
                 lab.id, name, lab.id);
      return 2;
    }
  }

  // What to grade: --impl, else the student's copy if there is one, else
  // the reference. Say which, first thing.
  std::string prefix, graded, reproduce, links;
  if (!flags.impl.empty()) {
    fs::path dir = fs::absolute(flags.impl);
    if (!fs::exists(dir / "CMakeLists.txt")) {
      fmt::print(stderr,
                 "grader: --impl {}: no CMakeLists.txt there; give a "
                 "copy of labs/{}\n",
                 flags.impl, lab.dir_name);
      return 2;
    }
    fs::path link = ws.extra_dir("impl", lab);
    fs::create_directories(link.parent_path());
    fs::remove(link);
    fs::create_directory_symlink(dir, link);
    prefix = "impl-";
    graded = fmt::format("{} (--impl)", dir.string());
    reproduce = fmt::format("grader {} --impl {}", lab.id, flags.impl);
  } else if (!flags.reference && fs::exists(ws.student_dir(lab))) {
    prefix = "student-";
    graded = fmt::format("your copy student/{}", lab.dir_name);
    reproduce = fmt::format("grader {}", lab.id);
    // Which copies of the earlier labs it links: each lab's CMakeLists
    // takes the student's copy when it exists.
    for (const LabInfo& earlier : all_labs()) {
      if (earlier.id >= lab.id) break;
      links += fmt::format(
          "  (it links {} lab {}: {})\n",
          fs::exists(ws.student_dir(earlier)) ? "your" : "the reference",
          earlier.id.substr(3),
          fs::exists(ws.student_dir(earlier))
              ? "student/" + earlier.dir_name
              : "labs/" + earlier.dir_name + "; you have no student/" +
                    earlier.dir_name);
    }
  } else {
    graded = fmt::format("the reference labs/{}", lab.dir_name);
    reproduce = fmt::format("grader {} --reference", lab.id);
  }
  fmt::print("grading {} with the {} suite ({} tests)\n", graded, lab.id,
             suite.size());
  fmt::print("{}", links);
  if (flags.impl.empty() && !flags.reference &&
      !fs::exists(ws.student_dir(lab)))
    fmt::print("  (no student copy yet: `grader start {}` makes one)\n",
               lab.id);

  std::fflush(stdout);

  const std::string target = prefix + lab.server_target;
  if (!flags.no_build) {
    fmt::print("building {} ({} preset) ...\n",
               fmt::join(lab.build_targets(prefix), " "), ws.preset);
    std::fflush(stdout);
    if (Status built = ws.build(lab.build_targets(prefix)); !built.ok()) {
      fmt::print("{}\n", built.message());
      fmt::print("0 passed, {} failed (did not build)\n", suite.size());
      return 1;
    }
  }
  fs::path binary = ws.binary(target);
  if (!fs::exists(binary)) {
    fmt::print(stderr, "grader: {} is not built (run without --no-build)\n",
               binary.string());
    return 2;
  }

  RunOptions run;
  run.only = flags.tests;
  run.seed = flags.seed.value_or(fresh_seed());
  run.runs = flags.runs;
  run.quick = flags.quick;
  run.verbose = flags.verbose;
  run.reproduce = reproduce + (flags.quick ? " --quick" : "");
  run.target_prefix = prefix;
  run.html_dir = flags.html;
  run.out_dir =
      ws.build_dir / "grader-runs" / fmt::format("{}-{}", lab.id, timestamp());
  fmt::print("seed {}{}; logs in {}\n", run.seed,
             flags.runs > 1
                 ? fmt::format(" (runs use {}..{})", run.seed,
                               run.seed + static_cast<uint64_t>(flags.runs) - 1)
                 : "",
             run.out_dir.string());
  std::fflush(stdout);

  RunSummary summary = run_suite(suite, binary, run);
  if (!flags.report.empty())
    write_report(flags.report, lab.id, graded, run, summary);
  fmt::print("\n{}: {} passed, {} failed, points {}/{} in {:.1f}s\n", lab.id,
             summary.passed, summary.failed, summary.points, summary.max_points,
             summary.seconds);
  if (summary.failed == 0 && flags.runs == 1 && flags.tests.empty())
    fmt::print("all {} tests pass{}\n", lab.id,
               target.starts_with("student-") ? ": compare with the reference "
                                                "(grader diff " +
                                                    lab.id + ")"
                                              : "");
  fmt::print("{} passed, {} failed\n", summary.passed, summary.failed);
  return summary.failed == 0 ? 0 : 1;
}

int start(const Workspace& ws, const LabInfo& lab, bool force) {
  fs::path to = ws.student_dir(lab);
  if (fs::exists(to) && !force) {
    fmt::print(stderr,
               "grader: {} already exists; it is your work, so it is left as "
               "it is (--force replaces it)\n",
               to.string());
    return 2;
  }
  fs::path staging = to.string() + ".new";
  fs::remove_all(staging);
  Result<std::vector<std::string>> hints =
      make_starter(lab, ws.reference_dir(lab), staging);
  if (!hints.ok()) {
    fs::remove_all(staging);
    fmt::print(stderr, "grader: {}\n", hints.status().message());
    return 1;
  }
  fs::remove_all(to);
  fs::rename(staging, to);
  fmt::print("made student/{} from labs/{}, with {} parts for you to write:\n",
             lab.dir_name, lab.dir_name, hints.value().size());
  for (const std::string& hint : hints.value()) fmt::print("  {}\n", hint);
  std::string tag = lab.id;
  for (char& c : tag) c = static_cast<char>(std::toupper(c));
  fmt::print(
      "\nEach is marked // {0} BEGIN ... // {0} END and throws NotImplemented "
      "until you write it.\nNext: read labs/{1}/README.md, then\n"
      "  cmake --build build/default && ctest --preset student   # your copy's "
      "unit tests\n"
      "  grader {2}                                               # the hidden "
      "suite\n",
      tag, lab.dir_name, lab.id);
  return 0;
}

int diff(const Workspace& ws, const LabInfo& lab) {
  fs::path mine = ws.student_dir(lab);
  if (!fs::exists(mine)) {
    fmt::print(stderr, "grader: no student/{} yet (grader start {})\n",
               lab.dir_name, lab.id);
    return 2;
  }
  std::string command = fmt::format(
      "cd '{}' && diff -ru {} 'labs/{}' 'student/{}'", ws.root.string(),
      ::isatty(STDOUT_FILENO) ? "--color=always" : "", lab.dir_name,
      lab.dir_name);
  int status = std::system(command.c_str());
  // diff exits 1 when the trees differ: that is the normal case here.
  return WIFEXITED(status) && WEXITSTATUS(status) <= 1 ? 0 : 2;
}

}  // namespace
}  // namespace kv::grader

int main(int argc, char** argv) {
  using namespace kv::grader;
  install_cleanup_handlers();

  CLI::App app{
      "kvlab grader: builds and grades the labs.\n"
      "  grader lab01               grade your copy (or the reference)\n"
      "  grader start lab01         make your starter copy\n"
      "  grader diff lab01          your copy against the reference\n"
      "  grader selftest            check the suites catch known bugs\n"
      "  grader check-history FILE  is a recorded history linearizable?"};
  app.require_subcommand(1);
  std::string preset;
  app.add_option("--preset", preset,
                 "CMake preset to build and grade with: default, debug, asan, "
                 "tsan (default: the build this grader came from)")
      ->check(CLI::IsMember({"default", "debug", "asan", "tsan"}));

  GradeFlags flags;
  std::vector<std::pair<const LabInfo*, CLI::App*>> lab_commands;
  for (const LabInfo& lab : all_labs()) {
    CLI::App* sub = app.add_subcommand(lab.id, "grade " + lab.id);
    auto* impl = sub->add_option("--impl", flags.impl,
                                 "grade this copy of labs/" + lab.dir_name);
    sub->add_flag("--reference", flags.reference,
                  "grade the reference solution")
        ->excludes(impl);
    sub->add_option("--test", flags.tests, "run only this test (repeatable)");
    sub->add_option("--seed", flags.seed,
                    "seed of the first run (default: random)");
    sub->add_option("--runs", flags.runs,
                    "run the suite N times, seeds seed..seed+N-1")
        ->check(CLI::Range(1, 10000));
    sub->add_flag("--quick", flags.quick, "smaller loads, same checks");
    sub->add_flag("--list", flags.list, "list the tests and what each checks");
    sub->add_option("--report", flags.report, "write a JSON report here");
    sub->add_option("--html", flags.html,
                    "where failed linearizability checks draw their timelines");
    sub->add_flag("-v,--verbose", flags.verbose, "trace each test's steps");
    sub->add_flag("--no-build", flags.no_build,
                  "grade what is built, build nothing");
    lab_commands.emplace_back(&lab, sub);
  }

  std::string lab_id;
  bool force = false;
  CLI::App* start_cmd =
      app.add_subcommand("start", "make your starter copy student/NN-name");
  start_cmd->add_option("lab", lab_id, "lab01 ... lab06")->required();
  start_cmd->add_flag("--force", force,
                      "replace an existing copy (your work is lost)");
  CLI::App* diff_cmd =
      app.add_subcommand("diff", "show your copy against the reference");
  diff_cmd->add_option("lab", lab_id, "lab01 ... lab06")->required();

  SelftestOptions selftest;
  std::optional<uint64_t> selftest_seed;
  CLI::App* self_cmd = app.add_subcommand(
      "selftest", "grade the known bugs: every one must be caught");
  self_cmd->add_option("--lab", selftest.labs, "only this lab (repeatable)");
  self_cmd->add_option("--bug", selftest.bugs, "only this bug (repeatable)");
  self_cmd->add_flag("--full", selftest.full,
                     "run every bug against the whole suite");
  self_cmd->add_option("--seed", selftest_seed, "seed (default: random)");
  self_cmd->add_flag("-v,--verbose", selftest.verbose,
                     "print every test of every run");

  CheckHistoryFlags check_flags;
  CLI::App* check_cmd = app.add_subcommand(
      "check-history",
      "is this history linearizable? (formats: grader/linearizability/"
      "README.md)");
  check_cmd->add_option("file", check_flags.file, "the history")
      ->required()
      ->check(CLI::ExistingFile);
  check_cmd->add_option("--model", check_flags.model, "register or kv")
      ->check(CLI::IsMember({"register", "kv"}))
      ->capture_default_str();
  check_cmd
      ->add_option("--format", check_flags.format, "auto, jepsen, edn or jsonl")
      ->check(CLI::IsMember({"auto", "jepsen", "edn", "jsonl"}))
      ->capture_default_str();
  check_cmd->add_option("--html", check_flags.html,
                        "write the history's timeline to this HTML file");
  check_cmd
      ->add_option("--time-budget-ms", check_flags.time_budget_ms,
                   "give up with 'unknown' after this long")
      ->check(CLI::Range(int64_t{1}, int64_t{24} * 3600 * 1000))
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (check_cmd->parsed()) return check_history(check_flags);
  Workspace ws = Workspace::open(preset);

  for (auto& [lab, sub] : lab_commands)
    if (sub->parsed()) return grade(ws, *lab, flags);

  if (start_cmd->parsed() || diff_cmd->parsed()) {
    const LabInfo* lab = find_lab(lab_id);
    if (!lab) {
      fmt::print(stderr, "grader: unknown lab '{}' (lab01 ... lab06)\n",
                 lab_id);
      return 2;
    }
    if (!std::filesystem::exists(ws.reference_dir(*lab))) {
      fmt::print(stderr, "grader: {} is not in this version of kvlab yet\n",
                 lab_id);
      return 2;
    }
    return start_cmd->parsed() ? start(ws, *lab, force) : diff(ws, *lab);
  }
  if (self_cmd->parsed()) {
    selftest.seed = selftest_seed.value_or(fresh_seed());
    return run_selftest(ws, selftest);
  }
  return 2;
}
