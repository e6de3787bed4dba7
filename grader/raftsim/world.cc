// See world.h. The checks here are Raft's safety properties (Figure 3 of
// the paper) plus the runtime contract of DESIGN §7 (persist before send),
// each failing with the property as a student would state it.
#include "world.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace kv::raftsim {

namespace {

std::string short_command(const raft::Entry& e) {
  if (e.type() == raft::ENTRY_NOOP) return "noop";
  std::string c = e.command();
  if (c.size() > 24) c = c.substr(0, 21) + "...";
  return fmt::format("\"{}\"", c);
}

bool same_entry(const raft::Entry& a, const raft::Entry& b) {
  return a.index() == b.index() && a.term() == b.term() &&
         a.type() == b.type() && a.command() == b.command();
}

}  // namespace

struct World::Node {
  NodeId id = 0;
  std::unique_ptr<lab05::RaftCore> core;  // null while crashed
  lab05::PersistedState disk;             // survives crashes
  bool frozen = false;
  std::vector<raft::Entry> applied;  // this life's state machine
  // For the checks.
  uint64_t max_term = 0;            // highest term in memory, this life
  uint64_t max_sent_term = 0;       // highest term of a message sent, any life
  uint64_t last_commit = 0;         // this life
  std::vector<uint64_t> log_terms;  // the log as last checked
  bool leading = false;             // leader at the last check
  struct Ack {
    uint64_t term = 0, index = 0, entry_term = 0;
  } ack;  // the highest AppendEntries success it sent, in ack.term
  std::deque<std::string> trace;
};

std::function<void(std::string_view)>& trace_sink() {
  static std::function<void(std::string_view)> sink;
  return sink;
}

World::World(WorldOptions options)
    : options_(std::move(options)), rng_(options_.seed), sink_(trace_sink()) {
  std::uniform_int_distribution<int> phase(0, kTickUnits - 1);
  for (int i = 0; i < options_.nodes; ++i) {
    auto n = std::make_unique<Node>();
    n->id = static_cast<NodeId>(i + 1);
    if (static_cast<size_t>(i) < options_.disks.size())
      n->disk = options_.disks[i];
    nodes_.push_back(std::move(n));
  }
  for (auto& n : nodes_) {
    start_core(*n);
    Event tick;
    tick.time = options_.lockstep ? kTickUnits : kTickUnits + phase(rng_);
    tick.seq = seq_++;
    tick.node = n->id;
    tick.tick = true;
    queue_.push(std::move(tick));
  }
}

World::~World() = default;

World::Node& World::node(NodeId n) {
  if (n == 0 || n > nodes_.size())
    throw Violation{fmt::format("simulator: no node n{}", n)};
  return *nodes_[n - 1];
}
const World::Node& World::node(NodeId n) const {
  return const_cast<World*>(this)->node(n);
}

void World::start_core(Node& n) {
  lab05::RaftConfig config;
  config.id = n.id;
  for (auto& other : nodes_) config.voters.push_back(other->id);
  config.election_ticks = options_.election_ticks;
  config.heartbeat_ticks = options_.heartbeat_ticks;
  config.max_entries_per_append = options_.max_entries_per_append;
  config.pre_vote = options_.part_d;
  config.check_quorum = options_.part_d;
  const NodeId id = n.id;
  config.logger = [this, id](std::string_view line) {
    trace(id, std::string(line));
  };
  n.core = std::make_unique<lab05::RaftCore>(std::move(config), n.disk,
                                             lab05::Rng(rng_()));
  n.max_term = n.core->term();
  n.last_commit = 0;
  n.applied.clear();
  n.leading = false;
  n.log_terms.clear();
  if (n.core->term() < n.max_sent_term)
    fail("currentTerm survives a crash",
         fmt::format("n{} sent messages in term {} before it crashed, but "
                     "restarted in term {}: the term must be in "
                     "Ready.hard_state, persisted before those messages",
                     n.id, n.max_sent_term, n.core->term()));
  process_ready(n);
  after_event(n);
}

// ---- time -------------------------------------------------------------------

bool World::run_until(const std::function<bool()>& done, int ticks) {
  const uint64_t deadline = now_ + static_cast<uint64_t>(ticks) * kTickUnits;
  if (done()) return true;
  while (!queue_.empty() && queue_.top().time <= deadline) {
    Event e = queue_.top();
    queue_.pop();
    now_ = e.time;
    ++events_;
    handle(e);
    if (done()) return true;
  }
  now_ = deadline;
  return done();
}

void World::run_ticks(int ticks) {
  run_until([] { return false; }, ticks);
}

void World::await(std::string_view what, const std::function<bool()>& done,
                  int ticks) {
  if (!run_until(done, ticks))
    fail("liveness",
         fmt::format("{} did not happen within {} ticks ({} election "
                     "timeouts)",
                     what, ticks, ticks / options_.election_ticks));
}

NodeId World::await_leader(int ticks) {
  auto settled = [&] {
    const NodeId l = leader();
    if (l == 0) return false;
    size_t following = 0;
    for (auto& n : nodes_) {
      if (!n->core || cuts_.count({l, n->id}) || cuts_.count({n->id, l}))
        continue;
      if (n->core->leader() != l || n->core->term() != core(l).term())
        return false;
      ++following;
    }
    return following >= nodes_.size() / 2 + 1;
  };
  await("a leader that a majority, and every node it can reach, follows",
        settled, ticks);
  return leader();
}

void World::handle(Event& e) {
  Node& n = node(e.node);
  if (e.tick) {
    Event next = e;
    next.time += kTickUnits;
    next.seq = seq_++;
    queue_.push(next);
    if (!n.core || n.frozen) return;
    n.core->tick();
    process_ready(n);
    after_event(n);
    return;
  }
  const raft::Message& m = e.message;
  if (!n.core) {
    trace(n.id, fmt::format("lost (n{} is down): n{} -> n{} {}", n.id, m.from(),
                            m.to(), lab05::describe(m)));
    return;
  }
  if (cuts_.count({m.from(), m.to()})) {
    trace(n.id, fmt::format("lost (link cut): n{} -> n{} {}", m.from(), m.to(),
                            lab05::describe(m)));
    return;
  }
  trace(n.id, fmt::format("n{} <- n{} {}", n.id, m.from(), lab05::describe(m)));
  n.core->step(m);
  process_ready(n);
  after_event(n);
}

// ---- the runtime ------------------------------------------------------------

void World::process_ready(Node& n) {
  for (int round = 0; n.core && n.core->has_ready(); ++round) {
    if (round == 100)
      fail("ready() converges",
           fmt::format("n{} still has a Ready after 100 ready()/advance() "
                       "rounds in one event",
                       n.id));
    lab05::Ready rd = n.core->ready();
    // 1. Persist.
    if (rd.hard_state) {
      n.disk.hard_state = *rd.hard_state;
      trace(n.id, fmt::format("n{} persist term={} vote={}", n.id,
                              rd.hard_state->term(), rd.hard_state->vote()));
    }
    if (!rd.entries.empty()) {
      const uint64_t first = rd.entries.front().index();
      if (first == 0 || first > n.disk.entries.size() + 1)
        fail("Ready.entries continue the persisted log",
             fmt::format("n{}'s Ready hands out entries from index {}, but "
                         "its disk holds {} entries: a gap",
                         n.id, first, n.disk.entries.size()));
      for (size_t i = 0; i < rd.entries.size(); ++i)
        if (rd.entries[i].index() != first + i)
          fail("Ready.entries continue the persisted log",
               fmt::format("n{}'s Ready entries are not consecutive indexes "
                           "(entry {} has index {})",
                           n.id, i, rd.entries[i].index()));
      n.disk.entries.resize(first - 1);
      for (const raft::Entry& e : rd.entries) n.disk.entries.push_back(e);
      trace(n.id, fmt::format("n{} persist entries {}..{}", n.id, first,
                              rd.entries.back().index()));
    }
    if (crash_mid_ready_ > 0 && !rd.messages.empty() &&
        std::bernoulli_distribution(crash_mid_ready_)(rng_)) {
      trace(n.id,
            fmt::format("n{} crashes after persisting, before sending", n.id));
      crash(n.id);
      return;
    }
    // 2. Send.
    for (raft::Message& m : rd.messages) send(n, std::move(m));
    // 3. Apply, answer reads.
    for (const raft::Entry& e : rd.committed) apply(n, e);
    for (const lab05::ReadState& rs : rd.read_states) {
      auto it = reads_.find({n.id, rs.request_id});
      if (it == reads_.end())
        fail("ReadIndex answers only reads that were asked",
             fmt::format("n{} released read #{}, which nobody asked it for",
                         n.id, rs.request_id));
      if (rs.index < it->second)
        fail("reads are linearizable (ReadIndex)",
             fmt::format(
                 "n{} released read #{} at index {}, but index {} was "
                 "committed before the read was asked (by n{}): the read "
                 "would miss a write that had already succeeded. A leader "
                 "must confirm it still leads (a heartbeat round a majority "
                 "answers) and must have committed an entry of its own term",
                 n.id, rs.request_id, rs.index, it->second,
                 committed_by_[it->second - 1]));
      trace(n.id, fmt::format("n{} read #{} released at index {}", n.id,
                              rs.request_id, rs.index));
      reads_.erase(it);
      ++reads_released_;
    }
    n.core->advance(rd);
  }
}

void World::send(Node& n, raft::Message m) {
  check_sent(n, m);
  const std::pair<NodeId, NodeId> link{m.from(), m.to()};
  std::string line =
      fmt::format("n{} -> n{} {}", m.from(), m.to(), lab05::describe(m));
  if (cuts_.count(link)) {
    trace(n.id, line + "  (lost: link cut)");
    return;
  }
  if (drop_filter_ && drop_filter_(m)) {
    trace(n.id, line + "  (lost)");
    return;
  }
  if (auto held = held_.find(link); held != held_.end()) {
    trace(n.id, line + "  (held)");
    held->second.push_back(std::move(m));
    return;
  }
  if (faults_.drop > 0 && std::bernoulli_distribution(faults_.drop)(rng_)) {
    trace(n.id, line + "  (lost)");
    return;
  }
  trace(n.id, line);
  auto delay = [&]() -> uint64_t {
    if (auto d = delays_.find(link); d != delays_.end()) return d->second;
    return std::uniform_int_distribution<int>(faults_.min_delay,
                                              faults_.max_delay)(rng_);
  };
  if (faults_.duplicate > 0 &&
      std::bernoulli_distribution(faults_.duplicate)(rng_))
    schedule(m, delay());
  schedule(std::move(m), delay());
}

void World::schedule(raft::Message m, uint64_t delay) {
  Event e;
  e.time = now_ + std::max<uint64_t>(delay, 1);
  e.seq = seq_++;
  e.node = m.to();
  e.message = std::move(m);
  queue_.push(std::move(e));
}

void World::apply(Node& n, const raft::Entry& e) {
  check_commit(n);
  const uint64_t expected = n.applied.size() + 1;
  if (e.index() != expected)
    fail("committed entries are applied in order, each once",
         fmt::format("n{} was handed entry {} to apply, after applying {}",
                     n.id, e.index(), expected - 1));
  if (e.index() > n.core->commit_index())
    fail("only committed entries are applied",
         fmt::format("n{} was handed entry {} to apply, beyond its commit "
                     "index {}",
                     n.id, e.index(), n.core->commit_index()));
  if (e.index() <= committed_.size() &&
      !same_entry(e, committed_[e.index() - 1]))
    fail(
        "state machine safety: every node applies the same entry at an "
        "index",
        fmt::format("n{} applies {} at index {}, but {} was committed "
                    "there (by n{})",
                    n.id, entry_name(e), e.index(),
                    entry_name(committed_[e.index() - 1]),
                    committed_by_[e.index() - 1]));
  n.applied.push_back(e);
}

// ---- the checks -------------------------------------------------------------

void World::check_sent(Node& n, const raft::Message& m) {
  if (m.from() != n.id || m.to() == 0 || m.to() > nodes_.size() ||
      m.to() == n.id)
    fail("messages go from a node to one of its peers",
         fmt::format("n{} sent {} from n{} to n{}", n.id, lab05::describe(m),
                     m.from(), m.to()));
  const bool pre_vote =
      (m.has_request_vote() && m.request_vote().pre_vote()) ||
      (m.has_request_vote_reply() && m.request_vote_reply().pre_vote());
  const raft::HardState& hs = n.disk.hard_state;
  if (!pre_vote) {
    if (m.term() > hs.term())
      fail("persist before you send: currentTerm",
           fmt::format("n{} sent {} in term {}, but its disk holds term {}: "
                       "a new term must be in Ready.hard_state, persisted "
                       "before the messages that use it",
                       n.id, lab05::describe(m), m.term(), hs.term()));
    n.max_sent_term = std::max(n.max_sent_term, m.term());
  }
  if (m.has_request_vote_reply() && !pre_vote &&
      m.request_vote_reply().granted()) {
    if (hs.term() != m.term() || hs.vote() != m.to())
      fail("persist before you send: votedFor",
           fmt::format("n{} granted its vote to n{} in term {}, but its disk "
                       "holds term {} vote n{}: after a crash it could vote "
                       "again in the same term",
                       n.id, m.to(), m.term(), hs.term(), hs.vote()));
    auto [it, fresh] = votes_.try_emplace({n.id, m.term()}, m.to());
    if (!fresh && it->second != m.to())
      fail("one vote per term",
           fmt::format("n{} granted its vote in term {} to n{}, and then to "
                       "n{}",
                       n.id, m.term(), it->second, m.to()));
  }
  if (m.has_append_entries_reply() && m.append_entries_reply().success()) {
    const uint64_t index = m.append_entries_reply().index();
    const lab05::RaftLog& log = n.core->log();
    if (index > log.last_index())
      fail("a follower acknowledges only entries it holds",
           fmt::format("n{} acknowledged entries up to {} but holds {}", n.id,
                       index, log.last_index()));
    for (uint64_t i = 1; i <= index; ++i) {
      if (i > n.disk.entries.size() ||
          n.disk.entries[i - 1].term() != log.term_at(i))
        fail("persist before you send: log entries",
             fmt::format(
                 "n{} acknowledged entries up to {} (term {}), but its disk "
                 "{}: an acknowledged entry must be on disk (Ready.entries) "
                 "first, or a crash loses what the leader counted as "
                 "replicated",
                 n.id, index, log.term_at(index),
                 i > n.disk.entries.size()
                     ? fmt::format("holds only {} entries",
                                   n.disk.entries.size())
                     : fmt::format("holds term {} at index {}, not term {}",
                                   n.disk.entries[i - 1].term(), i,
                                   log.term_at(i))));
    }
    if (m.term() > n.ack.term || index > n.ack.index)
      n.ack = {m.term(), index, log.term_at(index)};
  }
}

void World::after_event(Node& n) {
  if (!n.core) return;
  const lab05::RaftCore& c = *n.core;
  if (c.term() < n.max_term)
    fail("a node's term never decreases",
         fmt::format("n{} was in term {} and is now in term {}", n.id,
                     n.max_term, c.term()));
  n.max_term = c.term();
  check_log_matching(n);
  check_commit(n);
  check_leader(n);
  if (n.ack.index > 0 && n.ack.term == c.term() &&
      (c.log().last_index() < n.ack.index ||
       c.log().term_at(n.ack.index) != n.ack.entry_term))
    fail("a follower keeps what it acknowledged in the same term",
         fmt::format(
             "n{} acknowledged entries up to {} in term {}, and its log now "
             "ends at {} (term {}) while still in term {}: an AppendEntries "
             "that arrives late or twice must not truncate entries that "
             "match the leader's; only a conflicting entry is cut (§5.3)",
             n.id, n.ack.index, n.ack.term, c.log().last_index(),
             c.log().last_term(), c.term()));
}

void World::check_leader(Node& n) {
  const lab05::RaftCore& c = *n.core;
  const bool leading = c.role() == lab05::Role::kLeader;
  if (leading && !n.leading) {
    auto [it, fresh] = leaders_.try_emplace(c.term(), n.id);
    if (!fresh && it->second != n.id)
      fail("at most one leader per term (Election Safety)",
           fmt::format("n{} and n{} were both leaders of term {}", it->second,
                       n.id, c.term()));
    if (fresh) {
      std::vector<std::string> voters;
      if (n.disk.hard_state.term() == c.term() &&
          n.disk.hard_state.vote() == n.id)
        voters.push_back(fmt::format("n{}", n.id));
      for (auto& other : nodes_) {
        auto v = votes_.find({other->id, c.term()});
        if (other->id != n.id && v != votes_.end() && v->second == n.id)
          voters.push_back(fmt::format("n{}", other->id));
      }
      if (voters.size() < nodes_.size() / 2 + 1)
        fail("a leader has votes from a majority in its own term",
             fmt::format("n{} became leader of term {}, but only [{}] voted "
                         "for it in term {} (its own vote persisted, and "
                         "granted replies sent); {} of {} are needed. Replies "
                         "to an earlier term's RequestVote do not count",
                         n.id, c.term(), fmt::join(voters, " "), c.term(),
                         nodes_.size() / 2 + 1, nodes_.size()));
      for (size_t i = 0; i < committed_.size(); ++i) {
        const uint64_t index = i + 1;
        if (c.log().term_at(index) != committed_[i].term())
          fail(
              "Leader Completeness: a new leader holds every committed "
              "entry",
              fmt::format(
                  "n{} became leader of term {}, but its log has {} at "
                  "index {}, where {} was committed (by n{}): a voter "
                  "granted its vote to a candidate whose log is not at "
                  "least as up-to-date as its own (§5.4.1), or an entry "
                  "was committed that a majority did not hold",
                  n.id, c.term(),
                  index <= c.log().last_index()
                      ? "term " + std::to_string(c.log().term_at(index))
                      : std::string("nothing"),
                  index, entry_name(committed_[i]), committed_by_[i]));
      }
      trace(n.id, fmt::format("n{} (check) leader of term {}, votes [{}]", n.id,
                              c.term(), fmt::join(voters, " ")));
    }
  }
  n.leading = leading;
}

void World::check_log_matching(Node& n) {
  const lab05::RaftLog& log = n.core->log();
  const uint64_t last = log.last_index();
  uint64_t from = 1;
  while (from <= last && from <= n.log_terms.size() &&
         n.log_terms[from - 1] == log.term_at(from))
    ++from;
  n.log_terms.resize(from - 1);
  for (uint64_t i = from; i <= last; ++i) {
    const raft::Entry& e = log.at(i);
    if (e.index() != i)
      fail("the log holds entry i at index i",
           fmt::format("n{}'s log has an entry with index {} at position {}",
                       n.id, e.index(), i));
    const uint64_t prev_term = log.term_at(i - 1);
    if (e.term() < prev_term)
      fail("terms never decrease along a log",
           fmt::format("n{}'s log has term {} at index {} after term {}", n.id,
                       e.term(), i, prev_term));
    std::string command =
        e.type() == raft::ENTRY_NOOP ? std::string("\0noop", 5) : e.command();
    auto [it, fresh] = entries_seen_.try_emplace(
        {i, e.term()}, std::make_pair(prev_term, command));
    if (!fresh &&
        (it->second.first != prev_term || it->second.second != command))
      fail("Log Matching: same index and term, same entry and same history",
           fmt::format(
               "n{} holds index {} term {} ({}) after an entry of term {}, but "
               "another log held index {} term {} {}: a follower must check "
               "prevLogIndex and prevLogTerm before appending",
               n.id, i, e.term(), short_command(e), prev_term, i, e.term(),
               it->second.first != prev_term
                   ? fmt::format("after an entry of term {}", it->second.first)
                   : std::string("with another command")));
    n.log_terms.push_back(e.term());
  }
}

void World::check_commit(Node& n) {
  const lab05::RaftCore& c = *n.core;
  const uint64_t commit = c.commit_index();
  if (commit < n.last_commit)
    fail("the commit index never decreases",
         fmt::format("n{}'s commit index went from {} to {}", n.id,
                     n.last_commit, commit));
  if (commit == n.last_commit) return;
  if (commit > c.log().last_index())
    fail("the commit index stays within the log",
         fmt::format("n{} commit index {} but its log ends at {}", n.id, commit,
                     c.log().last_index()));
  for (uint64_t i = n.last_commit + 1; i <= commit; ++i) {
    const raft::Entry& e = c.log().at(i);
    if (i <= committed_.size()) {
      if (!same_entry(e, committed_[i - 1]))
        fail("State Machine Safety: one entry is ever committed at an index",
             fmt::format("n{} commits {} at index {}, but n{} committed {} "
                         "there",
                         n.id, entry_name(e), i, committed_by_[i - 1],
                         entry_name(committed_[i - 1])));
    } else {
      committed_.push_back(e);
      committed_by_.push_back(n.id);
    }
  }
  if (c.role() == lab05::Role::kLeader) {
    const uint64_t term = c.log().term_at(commit);
    std::vector<std::string> holders;
    for (auto& other : nodes_)
      if (other->disk.entries.size() >= commit &&
          other->disk.entries[commit - 1].term() == term)
        holders.push_back(fmt::format("n{}", other->id));
    if (holders.size() < nodes_.size() / 2 + 1)
      fail("a leader commits only what a majority holds on disk",
           fmt::format("n{} (leader, term {}) committed index {}, but only "
                       "[{}] hold it on disk: matchIndex must come from a "
                       "follower's acknowledgement, not from what was sent",
                       n.id, c.term(), commit, fmt::join(holders, " ")));
  }
  trace(n.id, fmt::format("n{} (check) committed up to {}", n.id, commit));
  n.last_commit = commit;
}

// ---- faults -----------------------------------------------------------------

void World::cut(NodeId from, NodeId to) {
  cuts_.insert({from, to});
  trace(0, fmt::format("cut n{} -> n{}", from, to));
}
void World::cut_both(NodeId a, NodeId b) {
  cut(a, b);
  cut(b, a);
}
void World::isolate(NodeId n) {
  for (auto& other : nodes_)
    if (other->id != n) cut_both(n, other->id);
}
void World::cut_incoming(NodeId n) {
  for (auto& other : nodes_)
    if (other->id != n) cut(other->id, n);
}
void World::heal(NodeId from, NodeId to) {
  cuts_.erase({from, to});
  trace(0, fmt::format("heal n{} -> n{}", from, to));
}
void World::heal_all() {
  cuts_.clear();
  delays_.clear();
  for (auto& [link, messages] : held_) {
    for (raft::Message& m : messages) schedule(std::move(m), 1);
  }
  held_.clear();
  drop_filter_ = nullptr;
  trace(0, "heal every link");
}
void World::set_delay(NodeId from, NodeId to, int units) {
  if (units <= 0)
    delays_.erase({from, to});
  else
    delays_[{from, to}] = units;
}
void World::hold(NodeId from, NodeId to) { held_[{from, to}]; }
void World::release(NodeId from, NodeId to, bool reverse, int gap) {
  auto it = held_.find({from, to});
  if (it == held_.end()) return;
  std::vector<raft::Message> messages = std::move(it->second);
  held_.erase(it);
  if (reverse) std::reverse(messages.begin(), messages.end());
  uint64_t delay = 1;
  for (raft::Message& m : messages) {
    schedule(std::move(m), delay);
    delay += std::max(gap, 1);
  }
  trace(0, fmt::format("release {} held messages n{} -> n{}{}", messages.size(),
                       from, to, reverse ? ", newest first" : ""));
}
void World::freeze_clock(NodeId n) { node(n).frozen = true; }
void World::thaw_clock(NodeId n) { node(n).frozen = false; }
void World::thaw_all() {
  for (auto& n : nodes_) n->frozen = false;
}

void World::crash(NodeId id) {
  Node& n = node(id);
  if (!n.core) return;
  n.core.reset();
  trace(id, fmt::format("n{} CRASH (disk: term={} vote={} entries={})", id,
                        n.disk.hard_state.term(), n.disk.hard_state.vote(),
                        n.disk.entries.size()));
}

void World::restart(NodeId id) {
  Node& n = node(id);
  if (n.core) return;
  trace(id, fmt::format("n{} RESTART", id));
  start_core(n);
}

// ---- clients ----------------------------------------------------------------

lab05::ProposeResult World::propose(NodeId id, std::string command) {
  Node& n = node(id);
  if (!n.core) return {};
  trace(id, fmt::format("n{} propose \"{}\"", id, command));
  lab05::ProposeResult r = n.core->propose(std::move(command));
  process_ready(n);
  after_event(n);
  return r;
}

lab05::ProposeResult World::read_index(NodeId id) {
  Node& n = node(id);
  if (!n.core) return {};
  const uint64_t request = next_read_id_++;
  reads_[{id, request}] = committed_.size();
  trace(id, fmt::format("n{} read #{} asked (committed anywhere: {})", id,
                        request, committed_.size()));
  lab05::ProposeResult r = n.core->read_index(request);
  if (!r.accepted) reads_.erase({id, request});
  process_ready(n);
  after_event(n);
  return r;
}

// ---- views ------------------------------------------------------------------

bool World::up(NodeId n) const { return node(n).core != nullptr; }

const lab05::RaftCore& World::core(NodeId n) const {
  const Node& x = node(n);
  if (!x.core)
    const_cast<World*>(this)->fail(
        "simulator",
        fmt::format("the scenario looked at n{}, which is down", n));
  return *x.core;
}

NodeId World::leader() const {
  NodeId best = 0;
  uint64_t term = 0;
  for (auto& n : nodes_)
    if (n->core && n->core->role() == lab05::Role::kLeader &&
        (best == 0 || n->core->term() > term)) {
      best = n->id;
      term = n->core->term();
    }
  return best;
}

const std::vector<raft::Entry>& World::applied(NodeId n) const {
  return node(n).applied;
}

bool World::all_applied(uint64_t index) const {
  for (auto& n : nodes_)
    if (n->core && n->applied.size() < index) return false;
  return true;
}

// ---- reports ----------------------------------------------------------------

std::string World::entry_name(const raft::Entry& e) const {
  return fmt::format("index {} term {} ({})", e.index(), e.term(),
                     short_command(e));
}

void World::trace(NodeId n, std::string line) {
  line = fmt::format("t={}.{} {}", now_ / kTickUnits, now_ % kTickUnits, line);
  for (unsigned char ch : line) {
    digest_ ^= ch;
    digest_ *= 1099511628211ULL;
  }
  if (sink_) sink_(line);
  if (n == 0) {
    global_trace_.push_back(std::move(line));
    if (global_trace_.size() > kTraceLines) global_trace_.pop_front();
    return;
  }
  std::deque<std::string>& t = node(n).trace;
  t.push_back(std::move(line));
  if (t.size() > kTraceLines) t.pop_front();
}

void World::phase(std::string text) {
  phase_ = text;
  trace(0, "== " + text);
}

void World::fail(std::string_view property, std::string_view detail) {
  std::string r = fmt::format("violated: {}\n  {}\n", property, detail);
  r += fmt::format("  at t={}.{} (tick {}, event {}){}\n", now_ / kTickUnits,
                   now_ % kTickUnits, now_ / kTickUnits, events_,
                   phase_.empty() ? "" : ", after: " + phase_);
  if (!global_trace_.empty()) {
    r += "  what the scenario did last:\n";
    for (const std::string& line : global_trace_) r += "    " + line + "\n";
  }
  r += fmt::format("  the last {} events of each node, oldest first:\n",
                   kTraceLines);
  for (auto& n : nodes_) {
    if (n->core)
      r += fmt::format("  n{}: {}, term {}, commit {}, log {}/{}{}\n", n->id,
                       lab05::role_name(n->core->role()), n->core->term(),
                       n->core->commit_index(), n->core->log().last_index(),
                       n->core->log().last_term(),
                       n->frozen ? ", clock frozen" : "");
    else
      r += fmt::format("  n{}: down (disk: term {}, {} entries)\n", n->id,
                       n->disk.hard_state.term(), n->disk.entries.size());
    for (const std::string& line : n->trace) r += "    " + line + "\n";
  }
  throw Violation{std::move(r)};
}

}  // namespace kv::raftsim
