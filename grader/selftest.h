// `grader selftest` (DESIGN §6): proves each suite has teeth. Every known
// bug is a patch under grader/bugs/<lab>/<bug>.patch whose header says
//     # student sees: <what a student with this bug would observe>
//     # caught by: <test> [<test> ...]
// The patch is applied to a scratch copy of the reference, built as its own
// targets (bug-<name>-labNN-server) and graded like a student's copy. A bug
// that no test catches, or a patch that no longer applies, fails the
// selftest; so does a reference that fails any test.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "suites.h"
#include "workspace.h"

namespace kv::grader {

struct KnownBug {
  std::string name;  // file stem: "no_lock"
  std::filesystem::path patch;
  std::string student_sees;
  std::vector<std::string> caught_by;  // tests recorded as catching it
};

// Reads grader/bugs/<lab.id>/*.patch, sorted by name.
Result<std::vector<KnownBug>> load_known_bugs(const Workspace& ws,
                                              const LabInfo& lab);
// Reads dir/*.patch (grader/bugs/checker: the linearizability checker's).
Result<std::vector<KnownBug>> load_known_bugs_in(
    const std::filesystem::path& dir);

struct SelftestOptions {
  // empty: every lab with a suite and bugs, and the checker ("checker")
  std::vector<std::string> labs;
  std::vector<std::string> bugs;  // empty: all
  bool full = false;              // every bug against the whole suite
  uint64_t seed = 0;
  bool verbose = false;
};

// Returns the process exit code: 0 when every bug was caught and every
// reference passed.
int run_selftest(const Workspace& ws, const SelftestOptions& options);

}  // namespace kv::grader
