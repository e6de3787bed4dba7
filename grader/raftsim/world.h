// The seeded network simulator of lab 05: N RaftCores (the copy being
// graded) over a simulated network and clock. One World is one cluster's
// life: messages are events with delivery times, every node's tick is an
// event, and every random choice (delays, losses, duplicates, crashes,
// the cores' own election timeouts) comes from the seed, so one seed is
// one run, event for event.
//
// The World is the cores' runtime, as lab05-server will be: it persists
// what a Ready asks (the "disk" below survives a crash; nothing else
// does), then sends, then applies, then calls advance(). After every event
// it checks Raft's safety properties and throws Violation, with the
// property in a student's words and the last events of every node, when
// one fails.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "labs/05-raft/raft_core.h"

namespace kv::raftsim {

using lab05::NodeId;
namespace raft = ::kvlab::raft;

// A failed check: report is the whole text to print (property, detail,
// the phase of the scenario, each node's last events).
struct Violation {
  std::string report;
};

struct WorldOptions {
  int nodes = 3;
  uint64_t seed = 1;
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  size_t max_entries_per_append = 64;
  bool part_d = false;  // PreVote and CheckQuorum on
  // Nodes tick at the same instants (true) or at a random phase each.
  bool lockstep = false;
  // Disks to start from (index i is node i + 1); missing ones are empty.
  std::vector<lab05::PersistedState> disks;
};

// Random faults applied to every message sent. Times are in units; a
// tick is World::kTickUnits units.
struct NetworkFaults {
  double drop = 0;       // probability a message is lost
  double duplicate = 0;  // probability it is delivered twice
  int min_delay = 1;
  int max_delay = 3;  // uniform in [min_delay, max_delay]: reordering
};

// Where every World sends every trace line, when set (lab05-sim --trace).
std::function<void(std::string_view)>& trace_sink();

class World {
 public:
  static constexpr int kTickUnits = 10;
  static constexpr size_t kTraceLines = 14;  // per node, in reports

  explicit World(WorldOptions options);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // ---- time ----
  // Runs events for ticks ticks of simulated time.
  void run_ticks(int ticks);
  // Runs until done() holds (checked after every event); false if ticks
  // passed first.
  bool run_until(const std::function<bool()>& done, int ticks);
  // run_until, or fail with "<what> did not happen within N ticks".
  void await(std::string_view what, const std::function<bool()>& done,
             int ticks);
  // Waits for one leader that every up node reachable from it follows;
  // returns it, or fails after ticks.
  NodeId await_leader(int ticks);
  uint64_t now() const { return now_; }
  uint64_t events() const { return events_; }

  // ---- faults ----
  void set_faults(NetworkFaults faults) { faults_ = faults; }
  void cut(NodeId from, NodeId to);  // one direction
  void cut_both(NodeId a, NodeId b);
  void isolate(NodeId n);       // every link to and from n
  void cut_incoming(NodeId n);  // n sends, hears nothing
  void heal(NodeId from, NodeId to);
  void heal_all();  // every cut, hold and delay override
  // Every message on the link takes exactly units (0: back to faults).
  void set_delay(NodeId from, NodeId to, int units);
  // Messages on the link wait until released; release delivers them gap
  // units apart, newest first with reverse.
  void hold(NodeId from, NodeId to);
  void release(NodeId from, NodeId to, bool reverse, int gap = 1);
  // A message for which drop returns true is lost (empty: none).
  void set_drop_filter(std::function<bool(const raft::Message&)> drop) {
    drop_filter_ = std::move(drop);
  }
  // A frozen node's clock stops: it handles messages but never ticks.
  void freeze_clock(NodeId n);
  void thaw_clock(NodeId n);
  void thaw_all();
  // Crash: volatile state and in-flight messages to it are lost, the disk
  // stays. crash_mid_ready: with this probability a random crash happens
  // after a Ready's persistence and before its messages go out.
  void crash(NodeId n);
  void restart(NodeId n);
  void set_crash_mid_ready(double p) { crash_mid_ready_ = p; }

  // ---- clients ----
  lab05::ProposeResult propose(NodeId n, std::string command);
  // Asks n for a ReadIndex; the World checks the index it returns against
  // what was committed before the request.
  lab05::ProposeResult read_index(NodeId n);
  size_t reads_released() const { return reads_released_; }

  // ---- views ----
  int size() const { return static_cast<int>(nodes_.size()); }
  bool up(NodeId n) const;
  const lab05::RaftCore& core(NodeId n) const;  // n must be up
  // The up leader of the highest term, 0 if none.
  NodeId leader() const;
  uint64_t max_committed() const { return committed_.size(); }
  // The entry committed at index (1 <= index <= max_committed()).
  const raft::Entry& committed(uint64_t index) const {
    return committed_.at(index - 1);
  }
  // What n has applied, in order.
  const std::vector<raft::Entry>& applied(NodeId n) const;
  // True when every up node has applied index.
  bool all_applied(uint64_t index) const;
  std::mt19937_64& rng() { return rng_; }

  // ---- reports ----
  // A line naming what the scenario is doing, shown in reports.
  void phase(std::string text);
  // Throws Violation: property in the student's terms, then detail.
  [[noreturn]] void fail(std::string_view property, std::string_view detail);
  // A 64-bit digest of every trace line so far: equal runs, equal digests.
  uint64_t digest() const { return digest_; }

 private:
  struct Node;
  struct Event {
    uint64_t time = 0;
    uint64_t seq = 0;
    NodeId node = 0;  // tick: whose; delivery: the receiver
    bool tick = false;
    uint64_t life = 0;  // a delivery to a node that crashed since is lost
    raft::Message message;
    bool operator>(const Event& o) const {
      return time != o.time ? time > o.time : seq > o.seq;
    }
  };

  Node& node(NodeId n);
  const Node& node(NodeId n) const;
  void start_core(Node& n);
  void handle(Event& e);
  void process_ready(Node& n);
  void send(Node& n, raft::Message m);
  void schedule(raft::Message m, uint64_t delay);
  void after_event(Node& n);
  void check_leader(Node& n);
  void check_log_matching(Node& n);
  void check_commit(Node& n);
  void check_sent(Node& n, const raft::Message& m);
  void apply(Node& n, const raft::Entry& e);
  void trace(NodeId n, std::string line);
  std::string entry_name(const raft::Entry& e) const;

  WorldOptions options_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  uint64_t now_ = 0;
  uint64_t seq_ = 0;
  uint64_t events_ = 0;
  NetworkFaults faults_;
  std::set<std::pair<NodeId, NodeId>> cuts_;
  std::map<std::pair<NodeId, NodeId>, int> delays_;
  std::map<std::pair<NodeId, NodeId>, std::vector<raft::Message>> held_;
  std::function<bool(const raft::Message&)> drop_filter_;
  double crash_mid_ready_ = 0;
  std::string phase_;

  // What the checks remember.
  std::map<uint64_t, NodeId> leaders_;  // term -> the node that led it
  // Votes granted (a reply sent): (voter, term) -> candidate.
  std::map<std::pair<NodeId, uint64_t>, NodeId> votes_;
  // Log matching: (index, term) -> (previous entry's term, command).
  std::map<std::pair<uint64_t, uint64_t>, std::pair<uint64_t, std::string>>
      entries_seen_;
  std::vector<raft::Entry> committed_;  // index i + 1, as first committed
  std::vector<NodeId> committed_by_;    // who first committed it
  // Reads asked and not yet released: (node, request id) -> what was
  // committed when the read was asked.
  std::map<std::pair<NodeId, uint64_t>, uint64_t> reads_;
  uint64_t next_read_id_ = 1;
  size_t reads_released_ = 0;

  std::deque<std::string> global_trace_;  // crashes, cuts, phases
  uint64_t digest_ = 1469598103934665603ULL;
  std::function<void(std::string_view)> sink_;
};

}  // namespace kv::raftsim
