// The student's starter copy (DESIGN §2): the reference lab with every
// solution region, fenced by
//     // LAB01 BEGIN: <hint>
//     ...the reference's code...
//     // LAB01 END
// replaced by   throw kv::NotImplemented("lab01: <hint>");
// keeping both marker lines, so the student sees where to write and
// `grader diff` lines the copy up with the reference.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "suites.h"

namespace kv::grader {

struct CutResult {
  std::string text;                // the source with regions stubbed
  std::vector<std::string> hints;  // in order of appearance
};

// Cuts the regions tagged for lab (tag "LAB01", hint prefix "lab01") out of
// one source file. Markers out of order (END without BEGIN, BEGIN inside a
// region, a region never closed, an empty hint) are kInvalidArgument naming
// the line: a broken fence must not ship a starter that leaks the solution.
Result<CutResult> cut_regions(std::string_view source, std::string_view lab_id,
                              std::string_view file_name);

// Copies the lab from `from` to `to` (which must not exist) with regions
// cut in every .h/.cc file. Returns every hint, as "file: hint".
Result<std::vector<std::string>> make_starter(const LabInfo& lab,
                                              const std::filesystem::path& from,
                                              const std::filesystem::path& to);

}  // namespace kv::grader
