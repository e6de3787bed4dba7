// What node_test.cc and replica_client_test.cc share: a whole lab 04 node
// in-process (lab 02's store in a temporary directory, the Node, lab 01's
// server speaking this lab's commands, on ports the kernel picks), and the
// means to wait for what replication does in its own threads. Nothing here
// sleeps to let something happen: await_until polls a condition and only
// its bound is a time, there to turn a hang into a failure that says what
// never happened.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "client.h"  // lab 03
#include "common/net.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "durable_store.h"
#include "node.h"
#include "replica_commands.h"
#include "reply_parser.h"
#include "server.h"
#include "stream.h"

namespace kv::lab04 {

// Short, so the tests are quick: a follower that is gone is noticed in
// kReplTimeout. Long enough that a loaded machine does not drop links that
// are fine, and the tests do not depend on that either.
inline constexpr Millis kHeartbeat{20};
inline constexpr Millis kReplTimeout{300};
// Bounds a hang, never paces a test.
inline constexpr std::chrono::seconds kHangBound{10};

inline NodeOptions leader_options() {
  NodeOptions options;
  options.role = Role::kLeader;
  options.repl_listen = {"127.0.0.1", 0};
  options.heartbeat = kHeartbeat;
  options.repl_timeout = kReplTimeout;
  return options;
}

inline NodeOptions follower_options(const HostPort& leader_repl) {
  NodeOptions options = leader_options();
  options.role = Role::kFollower;
  options.leader = leader_repl;
  return options;
}

// One node, wired as server_main.cc wires it, with one difference: the
// client port opens before the Node starts, because the Node must be told
// that port (advertise, which followers name in -READONLY) and with port 0
// it is known only once bound. No client knows the port before start()
// returns, so no request can find the Node missing.
class TestNode {
 public:
  // Opens (recovers) the store in dir: a TestNode started on the directory
  // of one that stopped is that node restarted.
  static Result<std::unique_ptr<TestNode>> start(
      const std::filesystem::path& dir, NodeOptions options) {
    std::unique_ptr<TestNode> t(new TestNode());
    lab02::DurableOptions durable;
    durable.dir = dir;
    Result<std::unique_ptr<lab02::DurableStore>> store =
        lab02::DurableStore::open(durable);
    if (!store.ok()) return store.status();
    t->store_ = std::move(store).value();
    lab01::ServerOptions server_options;
    server_options.listen = {"127.0.0.1", 0};
    server_options.connection.serve = serve_requests;
    Result<std::unique_ptr<lab01::Server>> server =
        lab01::Server::start(server_options, *t->store_);
    if (!server.ok()) return server.status();
    t->server_ = std::move(server).value();
    options.advertise = t->server_->address().to_string();
    Result<std::unique_ptr<Node>> node = Node::start(options, *t->store_);
    if (!node.ok()) return node.status();
    t->node_ = std::move(node).value();
    register_node(*t->store_, *t->node_);
    t->registered_ = true;
    return t;
  }

  ~TestNode() { stop(); }

  // server_main.cc's order: no client is served by a Node that stopped,
  // and the store closes last. The Node stays readable (position()).
  void stop() {
    if (server_) server_->stop();
    if (node_) node_->stop();
    if (registered_) unregister_node(*store_);
    registered_ = false;
    if (store_) store_->close();
  }

  Node& node() { return *node_; }
  lab02::DurableStore& store() { return *store_; }
  const HostPort& address() const { return server_->address(); }
  HostPort repl_address() const { return node_->repl_address(); }

  // A new connection's client, with deadlines that only bound a hang.
  lab03::Client client() const {
    lab03::ClientOptions options;
    options.server = address();
    options.timeout = kHangBound;
    return lab03::Client(options);
  }

 private:
  TestNode() = default;

  std::unique_ptr<lab02::DurableStore> store_;
  std::unique_ptr<lab01::Server> server_;
  std::unique_ptr<Node> node_;
  bool registered_ = false;
};

// Polls done until it holds. Replication happens in the nodes' threads and
// announces nothing to a test, so a test asks (a position, a ROLE line)
// until the answer is the one it waits for.
[[nodiscard]] inline ::testing::AssertionResult await_until(
    const std::function<bool()>& done, std::string_view what) {
  const auto deadline = std::chrono::steady_clock::now() + kHangBound;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return ::testing::AssertionFailure()
             << "never happened within " << kHangBound.count()
             << " s: " << what;
    // Between two looks at the condition, not instead of one.
    std::this_thread::sleep_for(Millis(2));
  }
  return ::testing::AssertionSuccess();
}

// One line of ROLE (Node::describe: "field:value" lines), "" if absent.
inline std::string role_field(const Node& node, std::string_view field) {
  const std::string text = node.describe();
  const std::string prefix = fmt::format("{}:", field);
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + at, end - at);
    if (line.starts_with(prefix))
      return std::string(line.substr(prefix.size()));
    at = end + 1;
  }
  return "";
}

inline uint64_t role_count(const Node& node, std::string_view field) {
  return std::stoull("0" + role_field(node, field));
}

// The leader's followers that are past their handshake: the ones a
// semi-sync write counts.
inline size_t streaming_followers(const Node& leader) {
  const std::string text = leader.describe();
  size_t count = 0;
  for (size_t at = text.find("state=streaming"); at != std::string::npos;
       at = text.find("state=streaming", at + 1))
    ++count;
  return count;
}

// "ok", or the error as lab03::Error says it: comparable in an EXPECT_EQ
// that then shows what went wrong.
template <typename T>
std::string outcome(const lab03::ClientResult<T>& result) {
  return result.ok() ? "ok" : result.error().to_string();
}

// The value of key as a string to compare: "(nil)" when absent.
inline std::string read_value(lab03::Client& client, std::string_view key) {
  lab03::ClientResult<std::optional<std::string>> got = client.get(key);
  if (!got.ok()) return got.error().to_string();
  return got.value() ? *got.value() : "(nil)";
}

// One request on a connection of its own, for the commands lab03::Client
// has no call for (PROMOTE, FOLLOW). The reply as redis-cli shows it.
inline std::string command(const HostPort& address,
                           const std::vector<std::string>& words) {
  Result<UniqueFd> fd = connect_tcp(address, kHangBound);
  if (!fd.ok()) return fd.status().to_string();
  std::string request = fmt::format("*{}\r\n", words.size());
  for (const std::string& word : words)
    request += fmt::format("${}\r\n{}\r\n", word.size(), word);
  if (Status s = send_all(fd.value().get(), request); !s.ok())
    return s.to_string();
  std::string in;
  const auto deadline = std::chrono::steady_clock::now() + kHangBound;
  while (std::chrono::steady_clock::now() < deadline) {
    lab03::ParsedReply parsed = lab03::parse_reply(in);
    if (parsed.kind == lab03::ParsedReply::Kind::kReply)
      return parsed.reply.to_string();
    if (parsed.kind == lab03::ParsedReply::Kind::kGarbage)
      return "garbage: " + parsed.error;
    pollfd p{fd.value().get(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char chunk[4096];
    ssize_t n = ::recv(fd.value().get(), chunk, sizeof chunk, 0);
    if (n <= 0) return "the connection closed before the reply";
    in.append(chunk, static_cast<size_t>(n));
  }
  return "no reply";
}

// An address where nothing listens, now or later in the test: a socket
// bound to it and never listening holds the port, so connecting is
// refused at once (kConnection), and no other socket can take the port.
class DeadAddress {
 public:
  DeadAddress() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (fd_.valid() && ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr),
                              sizeof addr) == 0) {
      Result<HostPort> bound = local_address(fd_.get());
      if (bound.ok()) address_ = std::move(bound).value();
    }
    EXPECT_NE(address_.port, 0) << "cannot bind a port to leave dead";
  }
  const HostPort& address() const { return address_; }

 private:
  UniqueFd fd_;
  HostPort address_{"127.0.0.1", 0};
};

// A follower that says where it is (by default nowhere: no history) and
// from then on never reads nor acknowledges: to the leader, a follower that
// stopped (a paused process, a cut that swallows bytes) while its
// connection stays open, until the leader's repl_timeout drops it.
class SilentFollower {
 public:
  Status connect(const HostPort& leader_repl, const Position& at = {}) {
    Result<UniqueFd> fd = connect_tcp(leader_repl, kHangBound);
    if (!fd.ok()) return fd.status();
    fd_ = std::move(fd).value();
    std::string out;
    encode_replicate(at, out);
    return send_all(fd_.get(), out);
  }

 private:
  UniqueFd fd_;
};

}  // namespace kv::lab04
