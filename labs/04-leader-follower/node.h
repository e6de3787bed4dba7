// Node: one lab 04 server's replication state and the rules that change it.
// A node is a leader or a follower. The leader numbers every write
// (position.h), keeps the recent ones in a backlog (backlog.h) and streams
// them to each connected follower (leader_link.h); a follower applies the
// stream in order into its own DurableStore and acknowledges what is
// durable (follower_link.h). Clients reach it through the lab's commands
// (replica_commands.h), which ask the Node whether a write may happen here.
//
// Acknowledgement modes: with sync_replicas == 0 (asynchronous) a write is
// acknowledged once it is durable on the leader; with sync_replicas N
// (semi-synchronous) also once N followers have said it is durable on
// them, waiting at most sync_timeout. Failover is manual: PROMOTE makes a
// follower the leader of a new history, FOLLOW points any node at a leader.
//
// Threads: the Node owns none itself; its LeaderLink (always listening, so
// that a promoted follower can take followers at once) and, on a follower,
// its FollowerLink own theirs. Everything below is guarded by mu_; the
// DurableStore's own lock is only ever taken inside mu_, never around it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "backlog.h"
#include "common/net.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "durable_store.h"
#include "position.h"
#include "stream.h"

namespace kv::lab04 {

using Millis = std::chrono::milliseconds;

enum class Role { kLeader, kFollower };

struct NodeOptions {
  Role role = Role::kLeader;
  HostPort leader;  // follower: the leader's replication address
  HostPort repl_listen{"127.0.0.1", 7104};  // where followers connect to us
  std::string advertise;  // our client address, for followers' -READONLY
  size_t sync_replicas = 0;
  Millis sync_timeout{1000};
  size_t backlog_bytes = size_t{16} << 20;
  Millis heartbeat{100};      // PING (leader) and ACK (follower) when idle
  Millis repl_timeout{1000};  // a link silent this long is dead
};

class LeaderLink;
class FollowerLink;

// What a client's write got, for commands.cc to turn into a reply.
struct WriteOutcome {
  std::string error;    // a whole RESP error line's text ("READONLY ..."),
                        // empty when the write was done
  uint64_t offset = 0;  // its offset; 0 when it changed nothing (DEL of a
                        // missing key)
};

// What the leader gives a follower that connected (LeaderLink).
struct Handshake {
  std::string refused;  // non-empty: not a leader now, say why
  SyncPlan plan;
  Position from;  // kContinue: the follower's; kFull: the snapshot's
  std::vector<std::pair<std::string, std::string>> snapshot;  // kFull
  std::string leader_address;
  uint64_t follower_id = 0;
  uint64_t epoch = 0;  // the session ends when the node's role changes
};

class Node {
 public:
  // Reads the node's position from store (recovered already) and starts
  // listening for followers, and following options.leader if a follower.
  static Result<std::unique_ptr<Node>> start(const NodeOptions& options,
                                             lab02::DurableStore& store);
  ~Node();      // stop()
  void stop();  // ends every link and joins their threads; idempotent

  lab02::DurableStore& store() { return store_; }
  const NodeOptions& options() const { return options_; }
  HostPort repl_address() const;  // bound (the real port after port 0)

  // --- For the client commands (commands.cc) ---
  WriteOutcome set(std::string key, std::string value);
  // One key; DEL k1 k2 calls it for each.
  WriteOutcome del(std::string_view key);
  // Semi-sync: returns once sync_replicas followers acknowledged offset, or
  // an error line ("TIMEOUT ...") once sync_timeout passes. Async: at once.
  std::optional<std::string> wait_replicated(uint64_t offset);
  // The reply text of ROLE, one "field:value" per line.
  std::string describe() const;
  // PROMOTE: this follower becomes the leader of a new history.
  Status promote();
  // FOLLOW host:port: follow the leader whose replication port that is.
  Status follow(const HostPort& leader);
  Role role() const;
  Position position() const;

  // --- For LeaderLink: one follower's session ---
  Handshake handshake(const Position& follower, std::string peer);
  enum class Next { kWrites, kIdle, kEnded, kFellBehind };
  // Waits up to heartbeat for writes from offset `from` on, copying them
  // into out. kEnded when stop is requested or the role changed since
  // epoch; kFellBehind when the backlog no longer holds `from`.
  Next next_writes(uint64_t from, uint64_t epoch, std::stop_token stop,
                   std::vector<Write>& out);
  void follower_streaming(uint64_t follower_id);
  void follower_acked(uint64_t follower_id, uint64_t offset);
  void follower_gone(uint64_t follower_id);

  // --- For FollowerLink: applying the stream ---
  // The leader said CONTINUE: we are on its history now.
  Status on_continue(const ContinueMsg& message);
  // Replaces the whole state with the leader's, then holds position at.
  Status apply_full_sync(
      const Position& at, std::string leader_address,
      const std::vector<std::pair<std::string, std::string>>& entries);
  // Applies writes that must follow on from our offset, in order, then
  // makes them durable. An error (a gap, a repeat) ends the link.
  Status apply_stream(const std::vector<Write>& writes);
  void set_link_state(std::string state);

 private:
  Node(const NodeOptions& options, lab02::DurableStore& store);
  // Stores position_ under its reserved key, in the same log as the data
  // (previous_ changes only on promotion, which stores it then).
  void persist_position_locked() KV_REQUIRES(mu_);
  size_t streaming_followers_locked() const KV_REQUIRES(mu_);
  // Why a client's write may not happen here now ("READONLY ...",
  // "NOREPLICAS ..."), or empty.
  std::string refusal_locked() const KV_REQUIRES(mu_);
  void start_following(const HostPort& leader);  // role_change_mu_ held
  void stop_following();                         // role_change_mu_ held

  const NodeOptions options_;
  lab02::DurableStore& store_;

  mutable std::mutex mu_;
  std::condition_variable_any new_write_;  // backlog grew, or role changed
  std::condition_variable acked_;          // a follower acked, came or went
  Role role_ KV_GUARDED_BY(mu_);
  uint64_t epoch_ KV_GUARDED_BY(mu_) = 0;  // bumped on every role change
  Position position_ KV_GUARDED_BY(mu_);
  Position previous_ KV_GUARDED_BY(mu_);
  Backlog backlog_ KV_GUARDED_BY(mu_);
  struct Follower {
    std::string peer;
    uint64_t acked = 0;
    bool streaming = false;
  };
  std::map<uint64_t, Follower> followers_ KV_GUARDED_BY(mu_);
  uint64_t next_follower_id_ KV_GUARDED_BY(mu_) = 1;
  uint64_t full_syncs_served_ KV_GUARDED_BY(mu_) = 0;
  uint64_t continues_served_ KV_GUARDED_BY(mu_) = 0;
  // Follower side, for ROLE and for -READONLY.
  HostPort leader_ KV_GUARDED_BY(mu_);
  std::string leader_client_address_ KV_GUARDED_BY(mu_);
  std::string link_state_ KV_GUARDED_BY(mu_) = "down";
  uint64_t full_syncs_ KV_GUARDED_BY(mu_) = 0;
  uint64_t continues_ KV_GUARDED_BY(mu_) = 0;

  std::mutex role_change_mu_;  // serialises promote, follow and stop
  bool stopped_ = false;       // under role_change_mu_
  std::unique_ptr<FollowerLink> follower_link_;  // under role_change_mu_
  std::unique_ptr<LeaderLink> leader_link_;      // last: stopped first
};

}  // namespace kv::lab04
