// KV_CHECK: a broken invariant is a bug, not an error value. It prints the
// file, line, condition and a message, then aborts, in release builds too,
// because a key-value store that goes on after its invariants broke loses
// data quietly.
#pragma once

#include <string_view>

namespace kv::internal {
[[noreturn]] void check_failed(const char* file, int line,
                               const char* condition, std::string_view message);
}  // namespace kv::internal

#define KV_CHECK(condition, message)                                           \
  do {                                                                         \
    if (!(condition)) [[unlikely]]                                             \
      ::kv::internal::check_failed(__FILE__, __LINE__, #condition, (message)); \
  } while (false)
