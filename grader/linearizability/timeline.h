// A history drawn as one self-contained HTML file (no network at view
// time: the CSS and the script are inline): one lane per client,
// operations as bars from invocation to completion, labelled with what they
// did and returned, grouped by key; for a key that is not linearizable,
// the longest linearizable prefix numbered in its order, and the operation
// that could not be placed, with those pending beside it, highlighted. The
// suites write one for every failed check; `grader check-history --html`
// writes one for any history.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "checker.h"
#include "common/status.h"
#include "history.h"

namespace kv::linearizability {

std::string timeline_html(const History& history, const CheckResult& result,
                          std::string_view title);

Status write_timeline(const std::filesystem::path& path, const History& history,
                      const CheckResult& result, std::string_view title);

}  // namespace kv::linearizability
