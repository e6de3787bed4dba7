// The Raft algorithm as a deterministic state machine (DESIGN §7, in the
// style of etcd's raft library): no threads, sockets, files or clocks.
// The caller delivers messages (step), lets logical time pass (tick),
// offers commands (propose) and reads (read_index), and collects what to
// do in a Ready: persist its hard state and entries (with fsync), then
// send its messages, then apply its committed entries and answer its
// reads, then call advance(). Nothing else may happen between ready() and
// advance(). The grader's simulator and lab05-server are such callers.
//
// Parts of the lab (README.md): A election, B log replication, C
// persistence and restart, D PreVote, CheckQuorum and ReadIndex.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "raft.pb.h"
#include "raft_log.h"

namespace kv::lab05 {

using NodeId = uint64_t;  // 1, 2, ...; 0 means none
// Election timeouts are drawn from this, seeded by the caller, so a run
// is reproducible from its seed.
using Rng = std::mt19937_64;
// Receives one line per decision ("n1 follower->candidate term=1").
using Logger = std::function<void(std::string_view line)>;

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
std::string_view role_name(Role role);

struct RaftConfig {
  NodeId id = 0;
  std::vector<NodeId> voters;  // every member, this node included
  // A follower that hears nothing for a timeout drawn uniformly from
  // [election_ticks, 2 * election_ticks) campaigns (§5.2).
  int election_ticks = 10;
  int heartbeat_ticks = 1;  // a leader's AppendEntries interval
  size_t max_entries_per_append = 64;
  bool pre_vote = true;      // part D
  bool check_quorum = true;  // part D
  Logger logger;             // may be empty
};

// What the runtime read back from disk at start: the last hard state and
// entries persisted from earlier Readys. Empty for a new node.
struct PersistedState {
  raft::HardState hard_state;
  std::vector<raft::Entry> entries;  // indexes 1, 2, ... in order
};

struct ProposeResult {
  bool accepted = false;
  uint64_t index = 0;  // accepted: where the command will be, if committed
  uint64_t term = 0;
  NodeId leader = 0;  // not accepted: who to try instead (0: unknown)
};

// A read that may be served linearizably once the state machine has
// applied `index` (ReadIndex, Raft thesis §6.4).
struct ReadState {
  uint64_t request_id = 0;
  uint64_t index = 0;
};

struct Ready {
  // Persist first: the hard state if it changed, and entries, which
  // replace any persisted entries from entries.front().index() on.
  std::optional<raft::HardState> hard_state;
  std::vector<raft::Entry> entries;
  // Then send.
  std::vector<raft::Message> messages;
  // Then apply these, in order (they follow the last applied entry),
  // and serve these reads once their index is applied.
  std::vector<raft::Entry> committed;
  std::vector<ReadState> read_states;

  bool empty() const {
    return !hard_state && entries.empty() && messages.empty() &&
           committed.empty() && read_states.empty();
  }
};

class RaftCore {
 public:
  RaftCore(RaftConfig config, PersistedState restored, Rng rng);

  void tick();
  void step(const raft::Message& message);
  ProposeResult propose(std::string command);
  // Leader only: asks for a linearizable read; its ReadState comes in a
  // later Ready. A leader that loses its leadership drops pending reads:
  // the runtime times them out.
  ProposeResult read_index(uint64_t request_id);

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& done);

  // For the runtime's replies (-MOVED) and the grader's checks.
  NodeId id() const { return config_.id; }
  Role role() const { return role_; }
  uint64_t term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId leader() const { return leader_; }
  uint64_t commit_index() const { return commit_index_; }
  uint64_t applied_index() const { return applied_index_; }
  const RaftLog& log() const { return log_; }

 private:
  struct Progress {  // the leader's view of one follower (Figure 2)
    uint64_t next = 1;
    uint64_t match = 0;
    bool recent_active = false;  // heard from since the last quorum check
    uint64_t read_round = 0;     // highest read round it echoed
  };
  struct PendingRead {
    uint64_t request_id = 0;
    uint64_t round = 0;
  };

  // Roles and elections (part A).
  void become_follower(uint64_t term, NodeId leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void campaign();
  void campaign_after_pre_vote();  // a won pre-vote: the real election
  void reset_election_timer();
  void handle_request_vote(const raft::Message& m);
  void handle_vote_reply(const raft::Message& m);
  bool candidate_log_up_to_date(const raft::RequestVote& rv) const;

  // Replication (part B).
  void send_append(NodeId peer);
  void broadcast_append();
  void handle_append_entries(const raft::Message& m);
  void handle_append_reply(const raft::Message& m);
  void maybe_commit();

  // PreVote, CheckQuorum, ReadIndex (part D).
  bool in_leader_lease() const;
  void check_quorum();
  void release_reads();

  bool valid(const raft::Message& m) const;
  size_t quorum() const { return config_.voters.size() / 2 + 1; }
  void send(raft::Message m);
  template <typename... Args>
  void log_line(std::string_view format, Args&&... args) const;

  RaftConfig config_;
  Rng rng_;
  RaftLog log_;

  // Persistent state (Figure 2), and what the runtime last confirmed.
  uint64_t term_ = 0;
  NodeId vote_ = 0;
  raft::HardState persisted_;

  // Volatile state.
  Role role_ = Role::kFollower;
  NodeId leader_ = 0;
  uint64_t commit_index_ = 0;
  uint64_t applied_index_ = 0;
  int election_elapsed_ = 0;
  int randomized_timeout_ = 0;
  int heartbeat_elapsed_ = 0;
  std::set<NodeId> granted_;  // votes (or pre-votes) for this node
  std::set<NodeId> refused_;
  std::map<NodeId, Progress> progress_;  // leader only
  uint64_t read_round_ = 0;
  std::vector<PendingRead> pending_reads_;
  std::vector<ReadState> ready_reads_;
  std::vector<raft::Message> outbox_;
};

// One line per message for traces: "RequestVote term=1 last=0/0".
std::string describe(const raft::Message& m);

}  // namespace kv::lab05
