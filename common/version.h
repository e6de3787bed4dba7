// The kvlab release every binary reports with --version.
#pragma once

#include <string_view>

namespace kv {
inline constexpr std::string_view kVersion = "kvlab 0.1.0";
}  // namespace kv
