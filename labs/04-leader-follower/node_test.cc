// Leaders and followers in-process, over real loopback sockets: the
// stream, the handshake's two answers (CONTINUE, FULLSYNC), -READONLY,
// manual failover (PROMOTE, FOLLOW) and semi-synchronous writes, each
// seen from outside as a client or an operator would see it (lab 03's
// client, ROLE's lines). position_test.cc has every case of the handshake's
// decision as a pure function; this file checks that the nodes act on it.
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "test_node.h"

namespace kv::lab04 {
namespace {

using Clock = std::chrono::steady_clock;

class NodeTest : public ::testing::Test {
 protected:
  // (Re)starts the node in slot on dir; a node already there is stopped
  // first, so that it lets go of the directory.
  void start(std::unique_ptr<TestNode>& slot, const TempDir& dir,
             const NodeOptions& options) {
    slot.reset();
    Result<std::unique_ptr<TestNode>> started =
        TestNode::start(dir.path(), options);
    ASSERT_TRUE(started.ok()) << started.status().to_string();
    slot = std::move(started).value();
  }

  void start_leader(const NodeOptions& options = leader_options()) {
    start(leader_, leader_dir_, options);
  }
  void start_follower(std::unique_ptr<TestNode>& slot, const TempDir& dir) {
    start(slot, dir, follower_options(leader_->repl_address()));
  }

  static ::testing::AssertionResult await_streaming(TestNode& follower) {
    return await_until(
        [&] { return role_field(follower.node(), "link") == "streaming"; },
        "the follower's link streaming");
  }
  static ::testing::AssertionResult await_caught_up(TestNode& follower,
                                                    TestNode& leader) {
    return await_until(
        [&] { return follower.node().position() == leader.node().position(); },
        fmt::format("the follower reaching the leader's position {}",
                    leader.node().position().to_string()));
  }

  // Declared before the nodes, so they outlive them.
  TempDir leader_dir_{"lab04-leader"};
  TempDir follower_dir_{"lab04-follower"};
  TempDir other_dir_{"lab04-other"};
  std::unique_ptr<TestNode> leader_;
  std::unique_ptr<TestNode> follower_;
  std::unique_ptr<TestNode> other_;
};

TEST_F(NodeTest, FollowerReceivesTheLeadersWrites) {
  ASSERT_NO_FATAL_FAILURE(start_leader());
  ASSERT_NO_FATAL_FAILURE(start_follower(follower_, follower_dir_));
  // Streamed, not copied in a full sync: the DEL travels as a DEL.
  ASSERT_TRUE(await_streaming(*follower_));
  const std::string binary_key("k\0\r\n", 4);
  const std::string binary_value("\0v\r\nSET x y\r\n\0", 15);

  lab03::Client client = leader_->client();
  ASSERT_EQ(outcome(client.set("plain", "1")), "ok");
  ASSERT_EQ(outcome(client.set(binary_key, binary_value)), "ok");
  ASSERT_EQ(outcome(client.set("gone", "soon")), "ok");
  ASSERT_EQ(outcome(client.del("gone")), "ok");
  ASSERT_TRUE(await_caught_up(*follower_, *leader_));

  lab03::Client reader = follower_->client();
  EXPECT_EQ(read_value(reader, "plain"), "1");
  EXPECT_EQ(read_value(reader, binary_key), binary_value);
  EXPECT_EQ(read_value(reader, "gone"), "(nil)");
  EXPECT_EQ(role_count(follower_->node(), "full_syncs"), 1u);  // the first
}

TEST_F(NodeTest, FollowerRejectsSetAndDelWithReadonlyNamingTheLeader) {
  ASSERT_NO_FATAL_FAILURE(start_leader());
  ASSERT_NO_FATAL_FAILURE(start_follower(follower_, follower_dir_));
  lab03::Client to_leader = leader_->client();
  ASSERT_EQ(outcome(to_leader.set("k", "v")), "ok");
  ASSERT_TRUE(await_caught_up(*follower_, *leader_));

  const std::string readonly = fmt::format(
      "server error: READONLY this node is a follower: send writes to the "
      "leader at {}",
      leader_->address().to_string());
  lab03::Client to_follower = follower_->client();
  EXPECT_EQ(outcome(to_follower.set("k", "mine")), readonly);
  EXPECT_EQ(outcome(to_follower.set("new", "mine")), readonly);
  EXPECT_EQ(outcome(to_follower.del("k")), readonly);
  EXPECT_EQ(read_value(to_follower, "k"), "v");
  EXPECT_EQ(read_value(to_follower, "new"), "(nil)");
  EXPECT_EQ(follower_->node().position(), leader_->node().position());
}

TEST_F(NodeTest, FollowerThatNeverReachedItsLeaderRejectsWritesNamingNoOne) {
  DeadAddress nowhere;
  ASSERT_NO_FATAL_FAILURE(
      start(follower_, follower_dir_, follower_options(nowhere.address())));
  lab03::Client client = follower_->client();
  EXPECT_EQ(outcome(client.set("k", "v")),
            "server error: READONLY this node is a follower; its leader is "
            "not known yet");
  EXPECT_EQ(read_value(client, "k"), "(nil)");
}

TEST_F(NodeTest, RestartedFollowerCatchesUpWithAContinue) {
  ASSERT_NO_FATAL_FAILURE(start_leader());
  ASSERT_NO_FATAL_FAILURE(start_follower(follower_, follower_dir_));
  lab03::Client client = leader_->client();
  ASSERT_EQ(outcome(client.set("before", "1")), "ok");
  ASSERT_TRUE(await_caught_up(*follower_, *leader_));

  follower_->stop();
  // One key written many times: the catch-up comes as one batch, which
  // must be applied in order.
  for (int i = 1; i <= 20; ++i)
    ASSERT_EQ(outcome(client.set("while-down", std::to_string(i))), "ok");
  ASSERT_EQ(outcome(client.del("before")), "ok");
  const uint64_t full_syncs_served =
      role_count(leader_->node(), "full_syncs_served");
  const uint64_t continues_served =
      role_count(leader_->node(), "continues_served");

  ASSERT_NO_FATAL_FAILURE(start_follower(follower_, follower_dir_));
  ASSERT_TRUE(await_caught_up(*follower_, *leader_));
  // The counters are the restarted node's own.
  EXPECT_GE(role_count(follower_->node(), "continues"), 1u)
      << follower_->node().describe();
  EXPECT_EQ(role_count(follower_->node(), "full_syncs"), 0u)
      << follower_->node().describe();
  EXPECT_GT(role_count(leader_->node(), "continues_served"), continues_served);
  EXPECT_EQ(role_count(leader_->node(), "full_syncs_served"),
            full_syncs_served);
  lab03::Client reader = follower_->client();
  EXPECT_EQ(read_value(reader, "while-down"), "20");
  EXPECT_EQ(read_value(reader, "before"), "(nil)");
}

TEST_F(NodeTest,
       FollowerPastTheLeadersBacklogGetsAFullSyncThatDropsDeletedKeys) {
  NodeOptions options = leader_options();
  options.backlog_bytes = 1;  // holds only the newest write
  ASSERT_NO_FATAL_FAILURE(start_leader(options));
  ASSERT_NO_FATAL_FAILURE(start_follower(follower_, follower_dir_));
  lab03::Client client = leader_->client();
  ASSERT_EQ(outcome(client.set("deleted", "1")), "ok");
  ASSERT_EQ(outcome(client.set("kept", "1")), "ok");
  ASSERT_TRUE(await_caught_up(*follower_, *leader_));

  follower_->stop();
  // Three writes, of which the backlog keeps the last: the follower needs
  // the first.
  ASSERT_EQ(outcome(client.del("deleted")), "ok");
  ASSERT_EQ(outcome(client.set("kept", "2")), "ok");
  ASSERT_EQ(outcome(client.set("added", "3")), "ok");
  ASSERT_GT(std::stoull(role_field(leader_->node(), "backlog_first")),
            follower_->node().position().offset + 1)
      << leader_->node().describe();
  const uint64_t full_syncs_served =
      role_count(leader_->node(), "full_syncs_served");

  ASSERT_NO_FATAL_FAILURE(start_follower(follower_, follower_dir_));
  ASSERT_TRUE(await_caught_up(*follower_, *leader_));
  EXPECT_GE(role_count(follower_->node(), "full_syncs"), 1u)
      << follower_->node().describe();
  EXPECT_GT(role_count(leader_->node(), "full_syncs_served"),
            full_syncs_served);
  lab03::Client reader = follower_->client();
  EXPECT_EQ(read_value(reader, "deleted"), "(nil)");
  EXPECT_EQ(read_value(reader, "kept"), "2");
  EXPECT_EQ(read_value(reader, "added"), "3");
}

TEST_F(NodeTest, FollowerReconnectsWhenItsLeaderRestarts) {
  ASSERT_NO_FATAL_FAILURE(start_leader());
  ASSERT_NO_FATAL_FAILURE(start_follower(follower_, follower_dir_));
  {
    lab03::Client client = leader_->client();
    ASSERT_EQ(outcome(client.set("a", "1")), "ok");
  }
  ASSERT_TRUE(await_caught_up(*follower_, *leader_));
  const uint64_t continues = role_count(follower_->node(), "continues");
  const uint64_t full_syncs = role_count(follower_->node(), "full_syncs");

  // Back on the same replication port, which is all the follower knows.
  NodeOptions options = leader_options();
  options.repl_listen = leader_->repl_address();
  ASSERT_NO_FATAL_FAILURE(start_leader(options));
  lab03::Client client = leader_->client();
  ASSERT_EQ(outcome(client.set("b", "2")), "ok");
  ASSERT_TRUE(await_caught_up(*follower_, *leader_));
  EXPECT_GT(role_count(follower_->node(), "continues"), continues)
      << follower_->node().describe();
  EXPECT_EQ(role_count(follower_->node(), "full_syncs"), full_syncs)
      << follower_->node().describe();
  lab03::Client reader = follower_->client();
  EXPECT_EQ(read_value(reader, "b"), "2");
}

TEST_F(NodeTest,
       AfterPromoteAndFollowTheOtherFollowerContinuesOnTheNewHistory) {
  ASSERT_NO_FATAL_FAILURE(start_leader());
  ASSERT_NO_FATAL_FAILURE(start_follower(follower_, follower_dir_));
  ASSERT_NO_FATAL_FAILURE(start_follower(other_, other_dir_));
  {
    lab03::Client client = leader_->client();
    ASSERT_EQ(outcome(client.set("a", "1")), "ok");
    ASSERT_EQ(outcome(client.set("b", "2")), "ok");
  }
  ASSERT_TRUE(await_caught_up(*follower_, *leader_));
  ASSERT_TRUE(await_caught_up(*other_, *leader_));
  const Position old = leader_->node().position();

  // The leader fails; an operator promotes one follower and points the
  // other at it.
  leader_->stop();
  EXPECT_EQ(command(follower_->address(), {"PROMOTE"}), "OK");
  EXPECT_EQ(follower_->node().role(), Role::kLeader);
  EXPECT_NE(follower_->node().position().history, old.history);
  EXPECT_EQ(role_field(follower_->node(), "previous"), old.to_string());
  const uint64_t full_syncs = role_count(other_->node(), "full_syncs");
  const uint64_t continues = role_count(other_->node(), "continues");
  EXPECT_EQ(command(other_->address(),
                    {"FOLLOW", follower_->repl_address().to_string()}),
            "OK");

  lab03::Client client = follower_->client();
  ASSERT_EQ(outcome(client.set("c", "3")), "ok");
  ASSERT_EQ(outcome(client.del("a")), "ok");
  ASSERT_TRUE(await_caught_up(*other_, *follower_));
  EXPECT_GT(role_count(other_->node(), "continues"), continues)
      << other_->node().describe();
  EXPECT_EQ(role_count(other_->node(), "full_syncs"), full_syncs)
      << other_->node().describe();
  lab03::Client reader = other_->client();
  EXPECT_EQ(read_value(reader, "a"), "(nil)");
  EXPECT_EQ(read_value(reader, "b"), "2");
  EXPECT_EQ(read_value(reader, "c"), "3");
  EXPECT_EQ(outcome(reader.set("d", "4")),
            fmt::format("server error: READONLY this node is a follower: "
                        "send writes to the leader at {}",
                        follower_->address().to_string()));
}

TEST_F(NodeTest, OldLeaderRejoiningAsAFollowerDropsWritesTheNewLeaderNeverHad) {
  ASSERT_NO_FATAL_FAILURE(start_leader());
  ASSERT_NO_FATAL_FAILURE(start_follower(follower_, follower_dir_));
  lab03::Client to_old = leader_->client();
  ASSERT_EQ(outcome(to_old.set("a", "1")), "ok");
  ASSERT_TRUE(await_caught_up(*follower_, *leader_));
  // The follower is cut off; the leader takes one more write, then fails.
  follower_->stop();
  ASSERT_EQ(outcome(to_old.set("lost", "2")), "ok");
  const HostPort old_repl = leader_->repl_address();
  leader_.reset();

  ASSERT_NO_FATAL_FAILURE(
      start(follower_, follower_dir_, follower_options(old_repl)));
  ASSERT_EQ(command(follower_->address(), {"PROMOTE"}), "OK");
  lab03::Client to_new = follower_->client();
  ASSERT_EQ(outcome(to_new.set("c", "3")), "ok");
  // Same offset as the old leader's, another history: only the history
  // tells the new leader that offset 2 is not its write 2.
  ASSERT_EQ(follower_->node().position().offset, 2u);

  ASSERT_NO_FATAL_FAILURE(
      start(other_, leader_dir_, follower_options(follower_->repl_address())));
  ASSERT_TRUE(await_caught_up(*other_, *follower_));
  EXPECT_GE(role_count(other_->node(), "full_syncs"), 1u)
      << other_->node().describe();
  lab03::Client reader = other_->client();
  EXPECT_EQ(read_value(reader, "a"), "1");
  EXPECT_EQ(read_value(reader, "lost"), "(nil)");
  EXPECT_EQ(read_value(reader, "c"), "3");
}

TEST_F(NodeTest, SemiSyncSetIsOnTheFollowerOnceAcknowledged) {
  NodeOptions options = leader_options();
  options.sync_replicas = 1;
  // A link dropped by a stall of the loaded machine would make a write
  // here NOREPLICAS; that is not what this test is about.
  options.repl_timeout = std::chrono::duration_cast<Millis>(kHangBound);
  ASSERT_NO_FATAL_FAILURE(start_leader(options));
  NodeOptions follower = follower_options(leader_->repl_address());
  follower.repl_timeout = options.repl_timeout;
  ASSERT_NO_FATAL_FAILURE(start(follower_, follower_dir_, follower));
  ASSERT_TRUE(
      await_until([&] { return streaming_followers(leader_->node()) != 0; },
                  "the leader counting its follower"));
  lab03::Client client = leader_->client();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(outcome(client.set("k", std::to_string(i))), "ok");
    // No waiting: the +OK came after the follower said it had the write.
    EXPECT_GE(follower_->node().position().offset,
              leader_->node().position().offset);
  }
  lab03::Client reader = follower_->client();
  EXPECT_EQ(read_value(reader, "k"), "4");
}

TEST_F(NodeTest,
       SemiSyncWithoutFollowersRefusesWithNoReplicasAndWritesNothing) {
  NodeOptions options = leader_options();
  options.sync_replicas = 1;
  ASSERT_NO_FATAL_FAILURE(start_leader(options));
  const Position before = leader_->node().position();
  lab03::Client client = leader_->client();
  lab03::ClientResult<void> set = client.set("k", "v");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().kind, lab03::ErrorKind::kServer);
  EXPECT_TRUE(set.error().message.starts_with("NOREPLICAS "))
      << set.error().message;
  EXPECT_EQ(read_value(client, "k"), "(nil)");
  EXPECT_EQ(leader_->node().position(), before);
}

TEST_F(NodeTest, SemiSyncSetGetsTimeoutWhenItsFollowerStopsAcknowledging) {
  NodeOptions options = leader_options();
  options.sync_replicas = 1;
  options.sync_timeout = Millis(200);
  // The leader must go on counting the silent follower for the whole wait,
  // or the write gets NOREPLICAS instead.
  options.repl_timeout = std::chrono::duration_cast<Millis>(kHangBound);
  ASSERT_NO_FATAL_FAILURE(start_leader(options));
  SilentFollower silent;
  ASSERT_TRUE(silent.connect(leader_->repl_address()).ok());
  ASSERT_TRUE(
      await_until([&] { return streaming_followers(leader_->node()) != 0; },
                  "the leader counting the silent follower"));
  const uint64_t offset = leader_->node().position().offset;

  lab03::Client client = leader_->client();
  const auto started = Clock::now();
  lab03::ClientResult<void> set = client.set("k", "v");
  const auto took = Clock::now() - started;
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().kind, lab03::ErrorKind::kServer);
  EXPECT_TRUE(set.error().message.starts_with("TIMEOUT "))
      << set.error().message;
  EXPECT_GE(took, options.sync_timeout);
  EXPECT_LT(took, options.sync_timeout + std::chrono::seconds(5));
  // Durable on the leader, whatever the follower did.
  EXPECT_EQ(read_value(client, "k"), "v");
  EXPECT_EQ(leader_->node().position().offset, offset + 1);
}

TEST_F(NodeTest, SemiSyncDoesNotCountAFollowerStillOwedTheWholeState) {
  NodeOptions options = leader_options();
  options.sync_replicas = 1;
  options.sync_timeout = Millis(200);
  options.repl_timeout = std::chrono::duration_cast<Millis>(kHangBound);
  ASSERT_NO_FATAL_FAILURE(start_leader(options));
  // Far ahead on a history this leader never had (an old leader coming
  // back, say): it gets a full sync, and until it ACKs holds none of the
  // leader's writes.
  SilentFollower elsewhere;
  ASSERT_TRUE(
      elsewhere.connect(leader_->repl_address(), Position{0x1234, 1000}).ok());
  ASSERT_TRUE(
      await_until([&] { return streaming_followers(leader_->node()) != 0; },
                  "the leader counting the follower"));
  lab03::Client client = leader_->client();
  lab03::ClientResult<void> set = client.set("k", "v");
  ASSERT_FALSE(set.ok()) << "+OK with no follower holding the write: "
                         << leader_->node().describe();
  EXPECT_TRUE(set.error().message.starts_with("TIMEOUT "))
      << set.error().message;
}

}  // namespace
}  // namespace kv::lab04
