// kv::lab04::ReplicaClient against real nodes over loopback (a follower
// that redirects, a dead node, a failover, semi-sync's NOREPLICAS and
// TIMEOUT), and against scripted servers for what real nodes will not do
// on demand: redirect in a loop, or cut a write off before its reply.
#include "replica_client.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "request_parser.h"
#include "test_node.h"

namespace kv::lab04 {
namespace {

using lab03::ErrorKind;

// A server that answers each request with what its script returns (whole
// RESP replies), or closes the connection when the script returns nullopt.
// One connection at a time: a client keeps one per address. The thread
// waits in poll(2) and is woken by an eventfd when the server is destroyed.
class ScriptedServer {
 public:
  using Script = std::function<std::optional<std::string>(
      const std::vector<std::string>& words)>;

  ScriptedServer() : wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    Result<UniqueFd> listener = listen_tcp({"127.0.0.1", 0});
    EXPECT_TRUE(listener.ok()) << listener.status().to_string();
    if (!listener.ok()) return;
    listener_ = std::move(listener).value();
    address_ = local_address(listener_.get()).value();
    thread_ = std::jthread([this] { run(); });
  }
  ~ScriptedServer() {
    uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
  }

  // Set before a client is pointed here, or while one is: the script may
  // name a server made after this one.
  void script(Script script) {
    std::lock_guard lock(mu_);
    script_ = std::move(script);
  }
  const HostPort& address() const { return address_; }
  int requests() const { return requests_.load(); }

 private:
  // False once woken: the server is going away.
  bool wait_readable(int fd) {
    pollfd p[2] = {{wake_.get(), POLLIN, 0}, {fd, POLLIN, 0}};
    while (::poll(p, 2, -1) < 0) {
    }
    return p[0].revents == 0;
  }

  void run() {
    while (wait_readable(listener_.get())) {
      UniqueFd connection(
          ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (connection.valid() && !serve(connection.get())) return;
    }
  }

  // One connection until it closes (true) or the server is woken (false).
  bool serve(int fd) {
    std::string in;
    while (true) {
      if (!wait_readable(fd)) return false;
      char chunk[4096];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return true;
      in.append(chunk, static_cast<size_t>(n));
      while (true) {
        lab03::Request request = lab03::next_request(in);
        if (request.kind == lab03::RequestKind::kNeedMore) break;
        if (request.kind != lab03::RequestKind::kRequest) return true;
        in.erase(0, request.consumed);
        if (request.words.empty()) continue;
        ++requests_;
        Script script;
        {
          std::lock_guard lock(mu_);
          script = script_;
        }
        std::optional<std::string> reply =
            script ? script(request.words) : std::nullopt;
        if (!reply) return true;  // closed with the request unanswered
        if (!send_all(fd, *reply).ok()) return true;
      }
    }
  }

  UniqueFd wake_;
  UniqueFd listener_;
  HostPort address_;
  std::mutex mu_;
  Script script_;  // under mu_
  std::atomic<int> requests_{0};
  std::jthread thread_;  // last: joined first, after the destructor wakes it
};

std::string readonly_naming(const HostPort& leader) {
  return fmt::format(
      "-READONLY this node is a follower: send writes to the leader at "
      "{}\r\n",
      leader.to_string());
}

bool same(const HostPort& a, const HostPort& b) {
  return a.host == b.host && a.port == b.port;
}

class ReplicaClientTest : public ::testing::Test {
 protected:
  void start(std::unique_ptr<TestNode>& slot, const TempDir& dir,
             const NodeOptions& options) {
    Result<std::unique_ptr<TestNode>> started =
        TestNode::start(dir.path(), options);
    ASSERT_TRUE(started.ok()) << started.status().to_string();
    slot = std::move(started).value();
  }
  // A leader, and a follower that has heard from it (so it can name it).
  void start_pair(const NodeOptions& leader = leader_options()) {
    ASSERT_NO_FATAL_FAILURE(start(leader_, leader_dir_, leader));
    ASSERT_NO_FATAL_FAILURE(start(follower_, follower_dir_,
                                  follower_options(leader_->repl_address())));
    ASSERT_TRUE(await_until(
        [&] { return role_field(follower_->node(), "link") == "streaming"; },
        "the follower's link streaming"));
  }

  static ReplicaClient client_of(std::vector<HostPort> nodes) {
    ReplicaClientOptions options;
    options.nodes = std::move(nodes);
    options.base.timeout = kHangBound;
    return ReplicaClient(options);
  }

  TempDir leader_dir_{"lab04-leader"};
  TempDir follower_dir_{"lab04-follower"};
  std::unique_ptr<TestNode> leader_;
  std::unique_ptr<TestNode> follower_;
};

TEST_F(ReplicaClientTest, PointedOnlyAtAFollowerSendsItsWritesToTheLeader) {
  ASSERT_NO_FATAL_FAILURE(start_pair());
  ReplicaClient client = client_of({follower_->address()});
  EXPECT_TRUE(same(client.leader(), follower_->address()));

  ASSERT_EQ(outcome(client.set("k", "v")), "ok");
  EXPECT_TRUE(same(client.leader(), leader_->address()))
      << client.leader().to_string();
  ASSERT_EQ(outcome(client.set("gone", "x")), "ok");
  lab03::ClientResult<bool> del = client.del("gone");
  ASSERT_EQ(outcome(del), "ok");
  EXPECT_TRUE(del.value());
  lab03::Client on_leader = leader_->client();
  EXPECT_EQ(read_value(on_leader, "k"), "v");
  EXPECT_EQ(read_value(on_leader, "gone"), "(nil)");
}

TEST_F(ReplicaClientTest, WithADeadNodeAndAFollowerFindsTheLeader) {
  ASSERT_NO_FATAL_FAILURE(start_pair());
  DeadAddress dead;
  ReplicaClient client = client_of({dead.address(), follower_->address()});
  ASSERT_EQ(outcome(client.set("k", "v")), "ok");
  EXPECT_TRUE(same(client.leader(), leader_->address()))
      << client.leader().to_string();
  lab03::Client on_leader = leader_->client();
  EXPECT_EQ(read_value(on_leader, "k"), "v");
}

TEST_F(ReplicaClientTest, FollowerThatKnowsNoLeaderSendsItToTheNextNode) {
  ASSERT_NO_FATAL_FAILURE(start(leader_, leader_dir_, leader_options()));
  DeadAddress nowhere;
  ASSERT_NO_FATAL_FAILURE(
      start(follower_, follower_dir_, follower_options(nowhere.address())));
  ReplicaClient client = client_of({follower_->address(), leader_->address()});
  ASSERT_EQ(outcome(client.set("k", "v")), "ok");
  EXPECT_TRUE(same(client.leader(), leader_->address()))
      << client.leader().to_string();
}

TEST_F(ReplicaClientTest, AfterAFailoverWritesFindThePromotedFollower) {
  ASSERT_NO_FATAL_FAILURE(start_pair());
  ReplicaClient client = client_of({leader_->address(), follower_->address()});
  ASSERT_EQ(outcome(client.set("k", "1")), "ok");
  ASSERT_TRUE(await_until(
      [&] {
        return follower_->node().position() == leader_->node().position();
      },
      "the follower catching up"));

  leader_->stop();
  ASSERT_EQ(command(follower_->address(), {"PROMOTE"}), "OK");
  ASSERT_EQ(outcome(client.set("k", "2")), "ok");
  EXPECT_TRUE(same(client.leader(), follower_->address()))
      << client.leader().to_string();
  lab03::ClientResult<std::optional<std::string>> got = client.get("k");
  ASSERT_EQ(outcome(got), "ok");
  EXPECT_EQ(got.value(), "2");
}

TEST_F(ReplicaClientTest, NoReplicasIsAServerErrorAndNothingIsWritten) {
  NodeOptions options = leader_options();
  options.sync_replicas = 1;
  ASSERT_NO_FATAL_FAILURE(start(leader_, leader_dir_, options));
  ReplicaClient client = client_of({leader_->address()});
  lab03::ClientResult<void> set = client.set("k", "v");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().kind, ErrorKind::kServer);
  EXPECT_TRUE(set.error().message.starts_with("NOREPLICAS "))
      << set.error().message;
  EXPECT_EQ(leader_->node().position().offset, 0u);
  lab03::ClientResult<bool> exists = client.exists("k");
  ASSERT_EQ(outcome(exists), "ok");
  EXPECT_FALSE(exists.value());
}

TEST_F(ReplicaClientTest, TimeoutReplyIsUnknownAndNotResent) {
  NodeOptions options = leader_options();
  options.sync_replicas = 1;
  options.sync_timeout = Millis(100);
  // Counts the silent follower for the whole wait (else: NOREPLICAS).
  options.repl_timeout = std::chrono::duration_cast<Millis>(kHangBound);
  ASSERT_NO_FATAL_FAILURE(start(leader_, leader_dir_, options));
  SilentFollower silent;
  ASSERT_TRUE(silent.connect(leader_->repl_address()).ok());
  ASSERT_TRUE(
      await_until([&] { return streaming_followers(leader_->node()) != 0; },
                  "the leader counting the silent follower"));
  const uint64_t offset = leader_->node().position().offset;

  ReplicaClient client = client_of({leader_->address()});
  lab03::ClientResult<void> set = client.set("k", "v");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().kind, ErrorKind::kUnknown);
  EXPECT_TRUE(set.error().message.starts_with("TIMEOUT "))
      << set.error().message;
  EXPECT_EQ(leader_->node().position().offset, offset + 1);
}

TEST_F(ReplicaClientTest, WriteWhoseOutcomeIsUnknownIsNotResent) {
  ASSERT_NO_FATAL_FAILURE(start(leader_, leader_dir_, leader_options()));
  ScriptedServer cut;  // takes the request, never answers it
  ReplicaClient client = client_of({cut.address(), leader_->address()});
  lab03::ClientResult<void> set = client.set("k", "v");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().kind, ErrorKind::kUnknown) << outcome(set);
  EXPECT_EQ(cut.requests(), 1);
  EXPECT_EQ(leader_->node().position().offset, 0u);
}

TEST_F(ReplicaClientTest, RedirectsStopAfterMaxRedirects) {
  ScriptedServer a;
  ScriptedServer b;
  a.script([&](const auto&) { return readonly_naming(b.address()); });
  b.script([&](const auto&) { return readonly_naming(a.address()); });
  ReplicaClientOptions options;
  options.nodes = {a.address()};
  options.base.timeout = kHangBound;
  options.max_redirects = 3;
  ReplicaClient client(options);
  lab03::ClientResult<void> set = client.set("k", "v");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().kind, ErrorKind::kServer);
  EXPECT_TRUE(set.error().message.starts_with("READONLY "))
      << set.error().message;
  EXPECT_EQ(a.requests() + b.requests(), 1 + options.max_redirects);
}

TEST_F(ReplicaClientTest, ReadsFollowTheLeaderTheWritesFound) {
  ASSERT_NO_FATAL_FAILURE(start(leader_, leader_dir_, leader_options()));
  ScriptedServer stale;  // a follower with an old value
  stale.script([&](const std::vector<std::string>& words) {
    return words[0] == "SET" ? readonly_naming(leader_->address())
                             : "$5\r\nstale\r\n";
  });
  ReplicaClient client = client_of({stale.address()});
  ASSERT_EQ(outcome(client.set("k", "fresh")), "ok");
  lab03::ClientResult<std::optional<std::string>> got = client.get("k");
  ASSERT_EQ(outcome(got), "ok");
  EXPECT_EQ(got.value(), "fresh");
  EXPECT_EQ(stale.requests(), 1);
}

TEST_F(ReplicaClientTest, ReadFromAnyReadsTheReadNodeAndWritesTheLeader) {
  ASSERT_NO_FATAL_FAILURE(start(leader_, leader_dir_, leader_options()));
  ScriptedServer reader;
  reader.script(
      [](const std::vector<std::string>& words) -> std::optional<std::string> {
        if (words[0] == "GET") return "$5\r\nstale\r\n";
        if (words[0] == "EXISTS") return ":1\r\n";
        return "-ERR this node takes only reads\r\n";
      });
  ReplicaClientOptions options;
  options.nodes = {leader_->address(), reader.address()};
  options.base.timeout = kHangBound;
  options.read_from = ReadFrom::kAny;
  options.read_node = 1;
  ReplicaClient client(options);
  ASSERT_EQ(outcome(client.set("k", "fresh")), "ok");
  lab03::ClientResult<std::optional<std::string>> got = client.get("k");
  ASSERT_EQ(outcome(got), "ok");
  EXPECT_EQ(got.value(), "stale");
  EXPECT_EQ(outcome(client.exists("k")), "ok");
  EXPECT_EQ(reader.requests(), 2);
  lab03::Client on_leader = leader_->client();
  EXPECT_EQ(read_value(on_leader, "k"), "fresh");
}

}  // namespace
}  // namespace kv::lab04
