// See replica_commands.h. The loop is lab 03's serve_requests; what is new is
// execute(), which sends writes and the replication commands to the Node
// and everything else to lab 01's execute.
#include "replica_commands.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "commands.h"  // lab 01: execute, AfterReply
#include "common/check.h"
#include "common/net.h"
#include "node.h"
#include "request_parser.h"
#include "resp.h"

namespace kv::lab04 {
namespace {

std::mutex registry_mu;
std::map<const lab01::Store*, Node*>& registry() {
  static std::map<const lab01::Store*, Node*> nodes;
  return nodes;
}

Node& node_of(const lab01::Store& store) {
  std::lock_guard lock(registry_mu);
  auto it = registry().find(&store);
  KV_CHECK(it != registry().end(), "lab04: a store with no Node");
  return *it->second;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

// "-READONLY ...", "-NOREPLICAS ...": an error line with its own code, as
// Redis has. Control bytes cannot occur: the texts are ours.
void append_coded_error(std::string& out, std::string_view line) {
  out.append("-");
  out.append(line);
  out.append("\r\n");
}

void append_arity_error(std::string& out, std::string_view name) {
  lab01::append_error(
      out, fmt::format("wrong number of arguments for '{}' command", name));
}

bool touches_reserved(const std::string& name,
                      const std::vector<std::string>& words) {
  static const char* kKeyCommands[] = {"get", "set", "del", "exists"};
  if (std::find(std::begin(kKeyCommands), std::end(kKeyCommands), name) ==
      std::end(kKeyCommands))
    return false;
  if (name == "set") return words.size() > 1 && is_reserved_key(words[1]);
  return std::any_of(words.begin() + 1, words.end(),
                     [](const std::string& k) { return is_reserved_key(k); });
}

lab01::AfterReply execute(const std::vector<std::string>& words, Node& node,
                          std::string& out) {
  const std::string name = lowercase(words[0]);
  const size_t argc = words.size();
  auto wrong_arity = [&](bool wrong) {
    if (wrong) append_arity_error(out, name);
    return wrong;
  };
  if (touches_reserved(name, words)) {
    lab01::append_error(out,
                        "keys starting with \\0kvlab04: belong to "
                        "replication");
  } else if (name == "set") {
    if (wrong_arity(argc != 3)) return lab01::AfterReply::kContinue;
    WriteOutcome done = node.set(words[1], words[2]);
    if (done.error.empty())
      if (std::optional<std::string> late = node.wait_replicated(done.offset))
        done.error = std::move(*late);
    if (!done.error.empty())
      append_coded_error(out, done.error);
    else
      lab01::append_simple(out, "OK");
  } else if (name == "del") {
    if (wrong_arity(argc < 2)) return lab01::AfterReply::kContinue;
    int64_t count = 0;
    uint64_t last = 0;
    std::string error;
    for (size_t i = 1; i < argc && error.empty(); ++i) {
      WriteOutcome done = node.del(words[i]);
      error = std::move(done.error);
      if (done.offset != 0) {
        ++count;
        last = done.offset;
      }
    }
    if (error.empty())
      if (std::optional<std::string> late = node.wait_replicated(last))
        error = std::move(*late);
    if (!error.empty())
      append_coded_error(out, error);
    else
      lab01::append_integer(out, count);
  } else if (name == "role") {
    if (wrong_arity(argc != 1)) return lab01::AfterReply::kContinue;
    lab01::append_bulk(out, node.describe());
  } else if (name == "promote") {
    if (wrong_arity(argc != 1)) return lab01::AfterReply::kContinue;
    if (Status s = node.promote(); !s.ok())
      lab01::append_error(out, s.message());
    else
      lab01::append_simple(out, "OK");
  } else if (name == "follow") {
    if (wrong_arity(argc != 2)) return lab01::AfterReply::kContinue;
    Result<HostPort> leader = parse_host_port(words[1], false);
    if (!leader.ok()) {
      lab01::append_error(
          out, fmt::format("FOLLOW host:port: {}", leader.status().message()));
    } else if (Status s = node.follow(leader.value()); !s.ok()) {
      lab01::append_error(out, s.message());
    } else {
      lab01::append_simple(out, "OK");
    }
  } else {
    return lab01::execute(words, node.store(), out);
  }
  return lab01::AfterReply::kContinue;
}

}  // namespace

void register_node(const lab01::Store& store, Node& node) {
  std::lock_guard lock(registry_mu);
  registry()[&store] = &node;
}

void unregister_node(const lab01::Store& store) {
  std::lock_guard lock(registry_mu);
  registry().erase(&store);
}

lab01::Served serve_requests(std::string& input, lab01::Store& store,
                             std::string& output,
                             const lab01::ConnectionOptions& options) {
  Node& node = node_of(store);
  lab03::RequestLimits limits;
  limits.max_inline_bytes = options.max_line_bytes;
  size_t consumed = 0;
  lab01::Served result = lab01::Served::kNeedMore;
  while (true) {
    if (output.size() >= options.max_output_bytes) {
      result = lab01::Served::kOutputFull;
      break;
    }
    lab03::Request request =
        lab03::next_request(std::string_view(input).substr(consumed), limits);
    if (request.kind == lab03::RequestKind::kNeedMore) break;
    if (request.kind == lab03::RequestKind::kFatal) {
      lab01::append_error(output, request.error);
      result = lab01::Served::kClose;
      break;
    }
    consumed += request.consumed;
    if (request.kind == lab03::RequestKind::kError) {
      lab01::append_error(output, request.error);
    } else if (!request.words.empty() && execute(request.words, node, output) ==
                                             lab01::AfterReply::kClose) {
      result = lab01::Served::kClose;
      break;
    }
  }
  input.erase(0, consumed);
  return result;
}

}  // namespace kv::lab04
