// See commands.h. Error texts follow Redis's, so that a student who later
// meets redis-cli recognises them.
#include "commands.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <fmt/format.h>

#include "common/not_implemented.h"
#include "resp.h"

namespace kv::lab01 {
namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

// The name goes back to the client inside an error line: keep it short.
std::string shown_name(std::string_view name) {
  constexpr size_t kMaxShown = 64;
  if (name.size() <= kMaxShown) return std::string(name);
  return std::string(name.substr(0, kMaxShown)) + "...";
}

void append_arity_error(std::string& out, std::string_view name) {
  append_error(out, fmt::format("wrong number of arguments for '{}' command",
                                shown_name(name)));
}

}  // namespace

AfterReply execute(const std::vector<std::string>& words, Store& store,
                   std::string& out) {
  // LAB01 BEGIN: execute — dispatch on the command name, check arity, reply
  const std::string name = lowercase(words[0]);
  const size_t argc = words.size();

  if (name == "ping") {
    if (argc == 1) {
      append_simple(out, "PONG");
    } else if (argc == 2) {
      append_bulk(out, words[1]);
    } else {
      append_arity_error(out, name);
    }
  } else if (name == "set") {
    if (argc != 3) {
      append_arity_error(out, name);
    } else {
      store.set(words[1], words[2]);
      append_simple(out, "OK");
    }
  } else if (name == "get") {
    if (argc != 2) {
      append_arity_error(out, name);
    } else if (std::optional<std::string> value = store.get(words[1])) {
      append_bulk(out, *value);
    } else {
      append_null(out);
    }
  } else if (name == "del" || name == "exists") {
    if (argc < 2) {
      append_arity_error(out, name);
    } else {
      int64_t count = 0;
      for (size_t i = 1; i < argc; ++i)
        count +=
            name == "del" ? store.erase(words[i]) : store.contains(words[i]);
      append_integer(out, count);
    }
  } else if (name == "quit") {
    append_simple(out, "OK");
    return AfterReply::kClose;
  } else {
    append_error(out,
                 fmt::format("unknown command '{}'", shown_name(words[0])));
  }
  return AfterReply::kContinue;
  // LAB01 END
}

}  // namespace kv::lab01
