// lab03-client-driver: the grader's handle on kv::lab03::Client. The grader
// cannot link a student's library into itself, so it runs this small
// program, built from the same copy of the lab, and drives the library one
// call at a time over stdin/stdout while its proxy breaks the network.
// Not part of the assignment: it only translates, and never changes what
// a call does.
//
// One request per line; bytes (keys, values, messages) in hex, "-" for
// empty; timeouts in ms:
//   config HOST:PORT CONNECT_MS TIMEOUT_MS MIN_BACKOFF_MS MAX_BACKOFF_MS
//   connect T | ping T | set K V T | get K T | del K T | exists K T | close
//   pipeline T N       then N lines: ping | set K V | get K | del K | exists K
// One line per result, "<elapsed microseconds> <result>":
//   ok | value V | nil | bool 0|1 | error server|connection|unknown MSG
//   pipeline N         then N lines: status S | err S | int N | bulk V |
//                      null | error KIND MSG
//   not_implemented MSG   (a starter copy reached a missing part)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "client.h"
#include "common/not_implemented.h"

namespace {

using kv::lab03::ClientResult;
using kv::lab03::ErrorKind;
using kv::lab03::Millis;
using kv::lab03::Reply;

std::string hex(std::string_view bytes) {
  if (bytes.empty()) return "-";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

std::optional<std::string> unhex(std::string_view text) {
  if (text == "-") return std::string();
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    unsigned value = 0;
    if (std::sscanf(std::string(text.substr(i, 2)).c_str(), "%2x", &value) != 1)
      return std::nullopt;
    out.push_back(static_cast<char>(value));
  }
  return out;
}

std::string error_text(const kv::lab03::Error& error) {
  const char* kind = error.kind == ErrorKind::kServer       ? "server"
                     : error.kind == ErrorKind::kConnection ? "connection"
                                                            : "unknown";
  return fmt::format("error {} {}", kind, hex(error.message));
}

std::string reply_text(const ClientResult<Reply>& result) {
  if (!result.ok()) return error_text(result.error());
  const Reply& r = result.value();
  switch (r.type) {
    case Reply::Type::kStatus:
      return "status " + hex(r.text);
    case Reply::Type::kError:
      return "err " + hex(r.text);
    case Reply::Type::kInteger:
      return fmt::format("int {}", r.integer);
    case Reply::Type::kBulk:
      return "bulk " + hex(r.text);
    case Reply::Type::kNull:
      return "null";
  }
  return "?";
}

template <typename T>
std::string result_text(const ClientResult<T>& result) {
  if (!result.ok()) return error_text(result.error());
  if constexpr (std::is_same_v<T, bool>) {
    return result.value() ? "bool 1" : "bool 0";
  } else {
    return result.value() ? "value " + hex(*result.value()) : "nil";
  }
}
std::string result_text(const ClientResult<void>& result) {
  return result.ok() ? "ok" : error_text(result.error());
}

// A malformed request from the grader is the grader's bug: say so loudly.
[[noreturn]] void bad_request(const std::string& line) {
  fmt::print("0 driver_error {}\n", hex(line.substr(0, 200)));
  std::fflush(stdout);
  std::exit(2);
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  kv::lab03::Client client(kv::lab03::ClientOptions{});
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::vector<std::string> w;
    for (std::string word; in >> word;) w.push_back(word);
    if (w.empty()) continue;
    auto arg = [&](size_t i) {
      if (i >= w.size()) bad_request(line);
      std::optional<std::string> bytes = unhex(w[i]);
      if (!bytes) bad_request(line);
      return *bytes;
    };
    auto ms = [&](size_t i) {
      if (i >= w.size()) bad_request(line);
      return Millis(std::stoll(w[i]));
    };
    auto start = std::chrono::steady_clock::now();
    std::string result;
    try {
      const std::string& op = w[0];
      if (op == "config") {
        kv::lab03::ClientOptions options;
        kv::Result<kv::HostPort> server = kv::parse_host_port(w.at(1));
        if (!server.ok()) bad_request(line);
        options.server = server.value();
        options.connect_timeout = ms(2);
        options.timeout = ms(3);
        options.min_backoff = ms(4);
        options.max_backoff = ms(5);
        client = kv::lab03::Client(options);
        result = "ok";
      } else if (op == "connect") {
        result = result_text(client.connect(ms(1)));
      } else if (op == "close") {
        client.close();
        result = "ok";
      } else if (op == "ping") {
        result = result_text(client.ping(ms(1)));
      } else if (op == "set") {
        result = result_text(client.set(arg(1), arg(2), ms(3)));
      } else if (op == "get") {
        result = result_text(client.get(arg(1), ms(2)));
      } else if (op == "del") {
        result = result_text(client.del(arg(1), ms(2)));
      } else if (op == "exists") {
        result = result_text(client.exists(arg(1), ms(2)));
      } else if (op == "pipeline") {
        Millis timeout = ms(1);
        size_t n = std::stoul(w.at(2));
        kv::lab03::Pipeline pipeline;
        for (size_t i = 0; i < n; ++i) {
          std::string request;
          if (!std::getline(std::cin, request)) bad_request(line);
          std::istringstream rin(request);
          std::vector<std::string> r;
          for (std::string word; rin >> word;) r.push_back(word);
          if (r.empty()) bad_request(request);
          auto rarg = [&](size_t k) {
            std::optional<std::string> bytes =
                k < r.size() ? unhex(r[k]) : std::nullopt;
            if (!bytes) bad_request(request);
            return *bytes;
          };
          if (r[0] == "ping")
            pipeline.ping();
          else if (r[0] == "set")
            pipeline.set(rarg(1), rarg(2));
          else if (r[0] == "get")
            pipeline.get(rarg(1));
          else if (r[0] == "del")
            pipeline.del(rarg(1));
          else if (r[0] == "exists")
            pipeline.exists(rarg(1));
          else
            bad_request(request);
        }
        start = std::chrono::steady_clock::now();
        std::vector<ClientResult<Reply>> replies =
            client.execute(pipeline, timeout);
        result = fmt::format("pipeline {}", replies.size());
        for (const ClientResult<Reply>& reply : replies)
          result += "\n" + reply_text(reply);
      } else {
        bad_request(line);
      }
    } catch (const kv::NotImplemented& e) {
      result = "not_implemented " + hex(e.what());
    } catch (const std::exception& e) {
      bad_request(line);
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
    fmt::print("{} {}\n", elapsed.count(), result);
    std::fflush(stdout);
  }
  return 0;
}
