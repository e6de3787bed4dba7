// Whole-string decimal integers, for the protocol parsers: "42" and "-1"
// parse, "", "+1", " 1", "1x" and anything out of range do not.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kv {

inline std::optional<int64_t> parse_int64(std::string_view digits) {
  int64_t value = 0;
  auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() ||
      end != digits.data() + digits.size())
    return std::nullopt;
  return value;
}

}  // namespace kv
