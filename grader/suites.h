// The labs the grader knows: where each lives, what it builds, its suite.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "suite.h"

namespace kv::grader {

struct LabInfo {
  std::string id;        // "lab01": what `grader lab01` takes
  std::string dir_name;  // "01-tcp-kv": labs/<dir_name>, student/<dir_name>
  std::string server_target;  // "lab01-server", prefixed for copies
  std::function<std::vector<TestCase>()> suite;  // empty: not yet written
  // Further programs of the graded copy the suite runs, prefixed like the
  // server ("lab03-client-driver"); and programs it runs from the
  // reference whatever is graded (lab 03 tests a client against the
  // reference server).
  std::vector<std::string> other_targets = {};
  std::vector<std::string> reference_targets = {};

  // Everything to build to grade the copy whose targets start with prefix.
  std::vector<std::string> build_targets(const std::string& prefix) const;
};

const std::vector<LabInfo>& all_labs();
// nullptr for an unknown id.
const LabInfo* find_lab(std::string_view id);

std::vector<TestCase> lab01_suite();
std::vector<TestCase> lab02_suite();
std::vector<TestCase> lab03_suite();
std::vector<TestCase> lab04_suite();
std::vector<TestCase> lab05_suite();

}  // namespace kv::grader
