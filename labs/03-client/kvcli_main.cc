// kvcli: a command-line client on kv::lab03::Client, in the manner of
// redis-cli. One-shot:       kvcli -p 7003 set greeting "hello world"
//              interactive:  kvcli -p 7003     (then type commands)
// Arguments use lab 01's inline syntax in interactive mode (double quotes,
// \n \xHH escapes), so any byte can be typed. Output is redis-cli's: OK,
// "value", (nil), (integer) 1, (error) ...; exit status 0 unless a command
// failed.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "client.h"
#include "common/not_implemented.h"
#include "inline_parser.h"

namespace {

using kv::lab03::Client;
using kv::lab03::ClientResult;
using kv::lab03::Reply;

std::string upper(std::string word) {
  std::transform(word.begin(), word.end(), word.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return word;
}

std::string shown(const kv::lab03::Error& error) {
  return "(error) " + error.to_string();
}

std::string quoted(const std::string& value) {
  Reply reply;
  reply.type = Reply::Type::kBulk;
  reply.text = value;
  return reply.to_string();
}

// Runs one command; prints its result; false if it failed.
bool run(Client& client, const std::vector<std::string>& words) {
  const std::string command = upper(words[0]);
  const size_t args = words.size() - 1;
  auto usage = [&](std::string_view form) {
    fmt::print("(error) usage: {}\n", form);
    return false;
  };
  if (command == "PING") {
    if (args != 0) return usage("PING");
    ClientResult<void> r = client.ping();
    fmt::print("{}\n", r.ok() ? "PONG" : shown(r.error()));
    return r.ok();
  }
  if (command == "SET") {
    if (args != 2) return usage("SET key value");
    ClientResult<void> r = client.set(words[1], words[2]);
    fmt::print("{}\n", r.ok() ? "OK" : shown(r.error()));
    return r.ok();
  }
  if (command == "GET") {
    if (args != 1) return usage("GET key");
    ClientResult<std::optional<std::string>> r = client.get(words[1]);
    if (!r.ok()) {
      fmt::print("{}\n", shown(r.error()));
      return false;
    }
    fmt::print("{}\n", r.value() ? quoted(*r.value()) : "(nil)");
    return true;
  }
  if (command == "DEL" || command == "EXISTS") {
    if (args == 0) return usage(command + " key [key ...]");
    // Several keys: one pipeline, the count of true replies, as Redis.
    kv::lab03::Pipeline pipeline;
    for (size_t i = 1; i < words.size(); ++i)
      command == "DEL" ? pipeline.del(words[i]) : pipeline.exists(words[i]);
    int64_t count = 0;
    for (const ClientResult<Reply>& r : client.execute(pipeline)) {
      if (!r.ok()) {
        fmt::print("{}\n", shown(r.error()));
        return false;
      }
      if (r.value().type != Reply::Type::kInteger) {
        fmt::print("{}\n", r.value().to_string());
        return false;
      }
      count += r.value().integer;
    }
    fmt::print("(integer) {}\n", count);
    return true;
  }
  fmt::print(
      "(error) unknown command '{}'; kvcli knows PING, SET, GET, DEL, EXISTS "
      "and, interactively, HELP and QUIT\n",
      words[0]);
  return false;
}

int interactive(Client& client, const std::string& where) {
  const bool tty = ::isatty(STDIN_FILENO);
  bool all_ok = true;
  std::string line;
  while (true) {
    if (tty) {
      fmt::print("{}> ", where);
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    kv::Result<std::vector<std::string>> words = kv::lab01::split_inline(line);
    if (!words.ok()) {
      fmt::print("(error) {}\n", words.status().message());
      all_ok = false;
      continue;
    }
    if (words.value().empty()) continue;
    std::string command = upper(words.value()[0]);
    if (command == "QUIT" || command == "EXIT") break;
    if (command == "HELP") {
      fmt::print(
          "PING | SET key value | GET key | DEL key [key ...] | "
          "EXISTS key [key ...] | QUIT\n"
          "Quote a value with spaces: SET k \"two words\"; escapes \\n \\r "
          "\\t \\\\ \\\" \\xHH give any byte.\n");
      continue;
    }
    all_ok = run(client, words.value()) && all_ok;
  }
  if (tty) fmt::print("\n");
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kvcli: a command-line client for kvlab servers (lab 03 on), built on "
      "kv::lab03::Client.\n"
      "One command:   kvcli -p 7003 set greeting hello\n"
      "Interactive:   kvcli -p 7003"};
  app.set_help_flag("--help", "print this help and exit");
  std::string host = "127.0.0.1";
  uint16_t port = 7003;
  int timeout_ms = 2000;
  std::vector<std::string> command;
  app.add_option("-h,--host", host, "server host")->capture_default_str();
  app.add_option("-p,--port", port, "server port")->capture_default_str();
  app.add_option("-t,--timeout-ms", timeout_ms,
                 "deadline of each command, connecting included")
      ->check(CLI::Range(1, 3600 * 1000))
      ->capture_default_str();
  app.add_option("command", command,
                 "a command and its arguments; none: read commands from "
                 "stdin");
  CLI11_PARSE(app, argc, argv);

  kv::lab03::ClientOptions options;
  options.server = {host, port};
  options.timeout = kv::lab03::Millis(timeout_ms);
  options.connect_timeout = std::min(options.connect_timeout, options.timeout);
  Client client(options);
  try {
    if (!command.empty()) return run(client, command) ? 0 : 1;
    return interactive(client, options.server.to_string());
  } catch (const kv::NotImplemented& e) {
    fmt::print(stderr, "kvcli: {}\n", e.what());
    return 70;
  }
}
