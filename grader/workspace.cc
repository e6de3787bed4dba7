// See workspace.h.
#include "workspace.h"

#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "process.h"

#ifndef KVLAB_SOURCE_DIR
#error "KVLAB_SOURCE_DIR must be defined by the build"
#endif

namespace kv::grader {

Workspace Workspace::open(std::string preset) {
  Workspace ws;
  // KVLAB_ROOT lets the tests of the grader point it at a scratch checkout.
  const char* root = std::getenv("KVLAB_ROOT");
  ws.root = root && *root ? std::filesystem::path(root)
                          : std::filesystem::path(KVLAB_SOURCE_DIR);
  if (preset.empty()) {
    // The build folder this grader was built in: a build made by hand in
    // another folder grades what that folder holds.
    ws.build_dir = KVLAB_BINARY_DIR;
    ws.preset = ws.build_dir.filename().string();
  } else {
    ws.preset = std::move(preset);
    ws.build_dir = ws.root / "build" / ws.preset;
  }
  return ws;
}

std::filesystem::path Workspace::reference_dir(const LabInfo& lab) const {
  return root / "labs" / lab.dir_name;
}

std::filesystem::path Workspace::student_dir(const LabInfo& lab) const {
  return root / "student" / lab.dir_name;
}

std::filesystem::path Workspace::binary(const std::string& target) const {
  return build_dir / "bin" / target;
}

std::filesystem::path Workspace::extra_dir(const std::string& prefix,
                                           const LabInfo& lab) const {
  return build_dir / "extra-labs" / prefix / lab.dir_name;
}

Status run_command(const std::vector<std::string>& argv,
                   const std::filesystem::path& log,
                   const std::filesystem::path& cwd) {
  std::vector<std::string> full = argv;
  if (!cwd.empty()) {
    // env -C DIR: run in DIR without changing the grader's own directory.
    full.insert(full.begin(), {"/usr/bin/env", "-C", cwd.string()});
  } else {
    full.insert(full.begin(), "/usr/bin/env");
  }
  Result<ChildProcess> child = ChildProcess::spawn(full, log);
  if (!child.ok()) return child.status();
  // A build or patch that runs for two hours is stuck: end it.
  std::optional<ExitInfo> ended = child.value().wait_for(std::chrono::hours(2));
  ExitInfo exit = ended ? *ended : child.value().kill();
  if (exit.exited && exit.code == 0) return Status();
  return Status::io_error(
      fmt::format("`{}` failed ({})", fmt::join(argv, " "), exit.to_string()));
}

Status Workspace::build(const std::vector<std::string>& targets) const {
  std::filesystem::create_directories(build_dir);
  std::filesystem::path log = build_dir / "grader-build.log";
  std::filesystem::remove(log);
  if (!std::filesystem::exists(build_dir / "CMakeCache.txt")) {
    if (Status s = run_command({"cmake", "--preset", preset}, log, root);
        !s.ok())
      return Status::io_error(
          fmt::format("configuring the {} preset failed; end of {}:\n{}",
                      preset, log.string(), tail_of_file(log, 30)));
  }
  std::vector<std::string> argv = {"cmake", "--build", build_dir.string(),
                                   "--target"};
  argv.insert(argv.end(), targets.begin(), targets.end());
  if (Status s = run_command(argv, log); !s.ok())
    return Status::io_error(fmt::format(
        "building {} failed; the compiler says (end of {}):\n{}",
        fmt::join(targets, " "), log.string(), tail_of_file(log, 40)));
  return Status();
}

}  // namespace kv::grader
