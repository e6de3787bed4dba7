// Where things are and how they get built: the repository root, the build
// folder of a CMake preset, and building targets in it. The grader builds
// what it grades first (DESIGN §6), with CMake, so a student's compile
// errors show up as the grader's first message.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "suites.h"

namespace kv::grader {

struct Workspace {
  std::filesystem::path root;       // the repository
  std::string preset = "default";   // a preset of CMakePresets.json
  std::filesystem::path build_dir;  // root/build/<preset>

  // preset empty: the build folder this grader binary was built in.
  static Workspace open(std::string preset);

  std::filesystem::path reference_dir(const LabInfo& lab) const;
  std::filesystem::path student_dir(const LabInfo& lab) const;
  std::filesystem::path binary(const std::string& target) const;
  // The grader's scratch copies: build_dir/extra-labs/<prefix>/<dir_name>.
  std::filesystem::path extra_dir(const std::string& prefix,
                                  const LabInfo& lab) const;

  // Configures the preset if it never was, then builds targets. The build's
  // output goes to build_dir/grader-build.log; on failure the message holds
  // its last lines (the compiler's errors).
  Status build(const std::vector<std::string>& targets) const;
};

// Runs argv (PATH lookup), output to log; returns the exit status as a
// Status naming the command.
Status run_command(const std::vector<std::string>& argv,
                   const std::filesystem::path& log,
                   const std::filesystem::path& cwd = {});

}  // namespace kv::grader
