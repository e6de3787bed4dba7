// See scenarios.h. Each scenario states, in World::phase(), what it is
// doing at each step, so that a failure's report says where it stood.
// Timing bounds are in ticks of the simulated clock, generous multiples of
// the election timeout (10 ticks): the simulation runs as fast as the
// machine allows, so no bound depends on the machine.
#include "scenarios.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "tests.h"
#include "world.h"

namespace kv::raftsim {

namespace {

constexpr int kE = 10;            // election_ticks of every World here
constexpr int kElect = 30 * kE;   // a leader, once a majority can talk
constexpr int kCommit = 30 * kE;  // a proposal, once the network is healed

using Terms = std::vector<uint64_t>;

// A disk holding entries of these terms (commands "i/t") and this hard
// state.
lab05::PersistedState disk(const Terms& terms, uint64_t term, NodeId vote = 0) {
  lab05::PersistedState d;
  d.hard_state.set_term(term);
  d.hard_state.set_vote(vote);
  for (size_t i = 0; i < terms.size(); ++i) {
    raft::Entry e;
    e.set_index(i + 1);
    e.set_term(terms[i]);
    e.set_command(fmt::format("{}/{}", i + 1, terms[i]));
    d.entries.push_back(std::move(e));
  }
  return d;
}

WorldOptions options(const Params& p, int nodes, bool part_d,
                     uint64_t salt = 0) {
  WorldOptions o;
  o.nodes = nodes;
  o.seed = p.seed * 1000003 + salt;
  o.election_ticks = kE;
  o.part_d = part_d;
  return o;
}

void finish(const World& w) {
  totals().events += w.events();
  totals().digest = totals().digest * 31 + w.digest();
}

// Proposes command at the current leader until one accepts it, then waits
// until every up node (everywhere) or a majority has applied it. Returns
// its index.
uint64_t commit(World& w, const std::string& command, bool everywhere = true) {
  w.phase(fmt::format("commit \"{}\"", command));
  for (int attempt = 0; attempt < 20; ++attempt) {
    const NodeId l = w.await_leader(kElect);
    lab05::ProposeResult r = w.propose(l, command);
    if (!r.accepted) continue;
    const uint64_t index = r.index;
    // Committed at this index, with this command. A later leader may
    // overwrite an uncommitted proposal; once an entry of a later term is
    // committed below index, ours can never be (log terms only grow along a
    // log), so propose again, as a client whose request timed out would.
    auto lost = [&] {
      const uint64_t c = w.max_committed();
      return c > 0 && c < index && w.committed(c).term() > r.term;
    };
    auto landed = [&] {
      if (lost()) return true;
      if (w.max_committed() < index) return false;
      if (everywhere) return w.all_applied(index);
      int applied = 0;
      for (NodeId n = 1; n <= static_cast<NodeId>(w.size()); ++n)
        if (w.up(n) && w.applied(n).size() >= index) ++applied;
      return applied > w.size() / 2;
    };
    w.await(fmt::format("\"{}\" (index {}) applied on {}", command, index,
                        everywhere ? "every up node" : "a majority"),
            landed, kCommit);
    if (!lost() && w.committed(index).command() == command) return index;
  }
  w.fail("liveness",
         fmt::format("\"{}\" was never committed in 20 attempts", command));
}

NodeId other_than(World& w, std::initializer_list<NodeId> not_these) {
  for (NodeId n = 1; n <= static_cast<NodeId>(w.size()); ++n)
    if (std::find(not_these.begin(), not_these.end(), n) == not_these.end())
      return n;
  return 0;
}

// ---- Part A -----------------------------------------------------------------

std::string elects_one_leader(const Params& p) {
  std::vector<std::string> got;
  for (int nodes : {3, 5, 7}) {
    World w(options(p, nodes, false, nodes));
    w.phase(fmt::format("{} nodes start on a perfect network", nodes));
    const NodeId l = w.await_leader(kElect);
    got.push_back(fmt::format("{} nodes: n{} by tick {}", nodes, l,
                              w.now() / World::kTickUnits));
    finish(w);
  }
  return fmt::format("leaders: {}", fmt::join(got, "; "));
}

std::string stable_leader_keeps_term(const Params& p) {
  World w(options(p, 5, false));
  const NodeId l = w.await_leader(kElect);
  const uint64_t term = w.core(l).term();
  const int ticks = p.quick ? 20 * kE : 60 * kE;
  w.phase(
      fmt::format("n{} leads term {}; no faults for {} ticks", l, term, ticks));
  NodeId moved = 0;
  auto changed = [&] {
    for (NodeId n = 1; n <= 5; ++n)
      if (w.core(n).term() != term) {
        moved = n;
        return true;
      }
    return false;
  };
  if (w.run_until(changed, ticks))
    w.fail("a healthy leader keeps its term",
           fmt::format("with no faults at all, n{} moved to term {} while n{} "
                       "led term {}: a follower must reset its election timer "
                       "on every AppendEntries from the current leader",
                       moved, w.core(moved).term(), l, term));
  finish(w);
  return fmt::format("n{} led term {} for {} ticks", l, term, ticks);
}

std::string split_votes_resolve(const Params& p) {
  WorldOptions o = options(p, 7, false);
  o.lockstep = true;
  World w(o);
  w.set_faults({0, 0, 1, World::kTickUnits - 1});
  // Alone, each node campaigns each time its timer runs out: the ticks
  // between its campaigns are its election timeouts.
  w.phase(
      "7 nodes, each alone, clocks ticking together: every campaign restarts "
      "the election timer with a fresh random timeout in [10, 20)");
  for (NodeId n = 1; n <= 7; ++n) w.isolate(n);
  std::map<NodeId, std::pair<uint64_t, uint64_t>> last;  // term, tick
  std::set<uint64_t> timeouts;
  auto observe = [&] {
    for (NodeId n = 1; n <= 7; ++n) {
      const uint64_t term = w.core(n).term();
      const uint64_t tick = w.now() / World::kTickUnits;
      auto& [seen_term, seen_tick] = last[n];
      if (term == seen_term) continue;
      if (seen_term != 0) {
        const uint64_t timeout = tick - seen_tick;
        if (timeout < static_cast<uint64_t>(kE) ||
            timeout >= static_cast<uint64_t>(2 * kE))
          w.fail(
              "election timeouts are drawn from [election_ticks, "
              "2 * election_ticks)",
              fmt::format("n{}, alone, campaigned for term {} {} ticks "
                          "after term {}; election_ticks is {}",
                          n, term, timeout, seen_term, kE));
        timeouts.insert(timeout);
      }
      seen_term = term;
      seen_tick = tick;
    }
    return false;
  };
  w.run_until(observe, 20 * kE);
  if (timeouts.size() < 2)
    w.fail("election timeouts are randomized",
           fmt::format("over {} ticks every node waited exactly {} ticks "
                       "between campaigns, every time: nodes that time out "
                       "together split the vote again and again. Draw a "
                       "new timeout from the seeded generator each time the "
                       "timer is reset",
                       20 * kE, timeouts.empty() ? 0 : *timeouts.begin()));
  w.heal_all();
  w.phase(
      "7 nodes whose clocks tick at the same instants: only randomized "
      "election timeouts separate the candidates");
  const int rounds = p.quick ? 2 : 4;
  std::vector<std::string> leaders;
  for (int round = 0; round < rounds; ++round) {
    const NodeId l = w.await_leader(kElect);
    leaders.push_back(fmt::format("n{} (term {})", l, w.core(l).term()));
    w.phase(fmt::format("crash the leader n{}; the other six must elect", l));
    w.crash(l);
    w.await_leader(kElect);
    w.restart(l);
  }
  finish(w);
  return fmt::format("elected in turn: {}", fmt::join(leaders, ", "));
}

std::string new_leader_after_crash(const Params& p) {
  World w(options(p, 5, false));
  const int rounds = p.quick ? 3 : 6;
  for (int round = 0; round < rounds; ++round) {
    const NodeId l = w.await_leader(kElect);
    const uint64_t term = w.core(l).term();
    w.phase(fmt::format("round {}: crash the leader n{} (term {})", round + 1,
                        l, term));
    w.crash(l);
    const NodeId next = w.await_leader(kElect);
    if (w.core(next).term() <= term)
      w.fail("a new leader has a higher term",
             fmt::format("n{} leads term {} after n{} led term {}", next,
                         w.core(next).term(), l, term));
    w.restart(l);
  }
  commit(w, "after the crashes");
  finish(w);
  return fmt::format("{} leader crashes, a new leader each time", rounds);
}

std::string stale_log_cannot_win(const Params& p) {
  World w(options(p, 5, false));
  const NodeId l = w.await_leader(kElect);
  const NodeId s = other_than(w, {l});
  w.phase(fmt::format("isolate n{}; the others commit three entries", s));
  w.isolate(s);
  for (int i = 1; i <= 3; ++i) commit(w, fmt::format("x{}", i), false);
  w.phase(fmt::format(
      "crash the leader n{}, freeze the other clocks and let n{}, whose log "
      "misses the committed entries, campaign against them",
      l, s));
  w.crash(l);
  for (NodeId n = 1; n <= 5; ++n)
    if (n != s) w.freeze_clock(n);
  w.heal_all();
  if (w.run_until([&] { return w.leader() == s; }, 10 * kE))
    w.fail("a vote goes only to a candidate at least as up-to-date",
           fmt::format("n{} won an election with a log that lacks committed "
                       "entries",
                       s));
  w.phase("thaw every clock: a node with the committed entries must win");
  w.thaw_all();
  w.restart(l);
  commit(w, "x4");
  finish(w);
  return fmt::format("n{} was refused for {} ticks; the cluster went on", s,
                     10 * kE);
}

std::string stale_vote_replies_ignored(const Params& p) {
  World w(options(p, 3, false));
  w.freeze_clock(2);
  w.freeze_clock(3);
  w.cut_both(1, 3);
  w.set_delay(2, 1, 25 * World::kTickUnits);
  w.phase(
      "n1 campaigns; n2's vote reply is delayed by 25 ticks, longer than "
      "n1's election timeout, and n3 is cut off");
  w.await(
      "n2 voting for n1", [&] { return w.core(2).vote() == 1; }, kElect);
  const uint64_t vote_term = w.core(2).term();
  w.cut(1, 2);
  w.phase(fmt::format(
      "n2 voted for n1 in term {}; n1 hears nothing more and campaigns "
      "again in later terms while the reply is on its way",
      vote_term));
  w.run_ticks(5 * kE);
  w.heal_all();
  w.thaw_all();
  w.phase("heal, thaw: the three elect normally");
  commit(w, "after");
  finish(w);
  return fmt::format("n2's term-{} vote arrived late and was not counted",
                     vote_term);
}

std::string stale_append_does_not_reset_timer(const Params& p) {
  World w(options(p, 3, false));
  const NodeId old = w.await_leader(kElect);
  const uint64_t term = w.core(old).term();
  const NodeId a = other_than(w, {old});
  const NodeId b = other_than(w, {old, a});
  w.phase(fmt::format("isolate the leader n{}; n{} and n{} elect a new one",
                      old, a, b));
  w.isolate(old);
  const NodeId fresh = w.await_leader(kElect);
  const NodeId f = fresh == a ? b : a;
  w.phase(fmt::format(
      "crash the new leader n{}; n{} hears only the old leader n{}'s term-{} "
      "heartbeats (n{} -> n{} open, its replies lost)",
      fresh, f, old, term, old, f));
  w.crash(fresh);
  w.heal(old, f);
  const uint64_t before = w.core(f).term();
  w.freeze_clock(fresh);
  w.restart(fresh);
  auto campaigned = [&] { return w.core(f).term() > before; };
  if (!w.run_until(campaigned, 8 * kE))
    w.fail("only the current leader's AppendEntries reset the timer",
           fmt::format("n{} (term {}) heard only n{}'s heartbeats of the old "
                       "term {} for {} ticks and never campaigned: an "
                       "AppendEntries with a lower term is rejected and must "
                       "not reset the election timer",
                       f, before, old, term, 8 * kE));
  w.heal_all();
  w.thaw_all();
  commit(w, "after");
  finish(w);
  return fmt::format("n{} campaigned despite n{}'s stale heartbeats", f, old);
}

std::string stale_leader_steps_down_on_reply(const Params& p) {
  World w(options(p, 3, false));
  const NodeId old = w.await_leader(kElect);
  const uint64_t term = w.core(old).term();
  w.phase(fmt::format(
      "pause the leader n{} (clock frozen, hears nothing); the others elect",
      old));
  w.freeze_clock(old);
  w.isolate(old);
  const NodeId fresh = w.await_leader(kElect);
  const NodeId f = other_than(w, {old, fresh});
  w.crash(fresh);
  w.phase(fmt::format(
      "crash the new leader n{}; resume n{}, which still leads term {}: n{} "
      "answers its heartbeats with term {}, and only replies reach n{}",
      fresh, old, term, f, w.core(f).term(), old));
  w.heal_all();
  w.set_drop_filter([&](const raft::Message& m) {
    return m.from() == f && m.to() == old && !m.has_append_entries_reply();
  });
  w.thaw_clock(old);
  auto stepped_down = [&] {
    return w.core(old).role() != lab05::Role::kLeader ||
           w.core(old).term() > term;
  };
  if (!w.run_until(stepped_down, kE / 2))
    w.fail("a node that sees a higher term steps down (§5.1)",
           fmt::format("n{} still leads term {} {} ticks after n{} answered "
                       "its AppendEntries with term {}: any message with a "
                       "higher term, replies too, turns a leader into a "
                       "follower of that term",
                       old, term, kE / 2, f, w.core(f).term()));
  w.set_drop_filter(nullptr);
  w.restart(fresh);
  commit(w, "after");
  finish(w);
  return fmt::format("n{} stepped down on n{}'s reply", old, f);
}

// ---- Part B -----------------------------------------------------------------

std::string replicates_and_commits(const Params& p) {
  const int count = p.quick ? 10 : 30;
  for (int nodes : {3, 5}) {
    World w(options(p, nodes, false, nodes));
    const NodeId l = w.await_leader(kElect);
    w.phase(fmt::format("{} proposals at the leader n{}", count, l));
    uint64_t last = 0;
    for (int i = 0; i < count; ++i) {
      lab05::ProposeResult r = w.propose(l, fmt::format("c{}", i));
      if (!r.accepted)
        w.fail("the leader accepts proposals",
               fmt::format("n{} leads but refused a proposal", l));
      last = r.index;
      w.run_ticks(static_cast<int>(w.rng()() % 2));
    }
    w.await(
        fmt::format("all {} proposals applied on every node", count),
        [&] { return w.all_applied(last); }, kCommit);
    for (NodeId n = 1; n <= static_cast<NodeId>(nodes); ++n) {
      int seen = 0;
      for (const raft::Entry& e : w.applied(n))
        if (e.type() == raft::ENTRY_COMMAND &&
            e.command() != fmt::format("c{}", seen++))
          w.fail("commands are applied in the order they were proposed",
                 fmt::format("n{} applied \"{}\" as command {}", n, e.command(),
                             seen - 1));
    }
    finish(w);
  }
  return fmt::format("{} commands on 3 and 5 nodes, applied in order", count);
}

std::string figure7_follower_logs(const Params& p) {
  WorldOptions o = options(p, 7, false);
  // Figure 7 of the Raft paper: the leader (term 8) and followers a-f.
  const std::vector<Terms> logs = {
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6},        // the leader
      {1, 1, 1, 4, 4, 5, 5, 6, 6},           // a: one missing
      {1, 1, 1, 4},                          // b: many missing
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},     // c: one extra
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},  // d: two extra of term 7
      {1, 1, 1, 4, 4, 4, 4},                 // e: missing and extra
      {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3},     // f: a whole other history
  };
  for (const Terms& t : logs) o.disks.push_back(disk(t, 7));
  o.max_entries_per_append = 3;
  World w(o);
  for (NodeId n = 2; n <= 7; ++n) w.freeze_clock(n);
  w.phase(
      "Figure 7: n1 holds the leader's log, n2..n7 followers a..f; only n1's "
      "clock runs, so n1 becomes leader (with a, b, e, f's votes)");
  w.await(
      "n1 leading", [&] { return w.leader() == 1; }, kElect);
  w.phase("n1 leads: every follower's log must become a copy of n1's");
  auto same_logs = [&] {
    const lab05::RaftLog& l = w.core(1).log();
    for (NodeId n = 2; n <= 7; ++n) {
      const lab05::RaftLog& f = w.core(n).log();
      if (f.last_index() != l.last_index()) return false;
      for (uint64_t i = 1; i <= l.last_index(); ++i)
        if (f.term_at(i) != l.term_at(i)) return false;
    }
    return true;
  };
  w.await("every follower's log equal to the leader's", same_logs, kCommit);
  const uint64_t index = commit(w, "after figure 7");
  w.thaw_all();
  finish(w);
  return fmt::format("six follower logs repaired; \"after figure 7\" at {}",
                     index);
}

std::string figure8_previous_term_not_counted(const Params& p) {
  WorldOptions o = options(p, 5, false);
  // Figure 8 (c): S1 led term 2 and wrote index 2 only on itself; S5 led
  // term 3 and wrote index 2 only on itself (S2-S4 voted for it).
  o.disks = {disk({1, 2}, 2, 1), disk({1}, 3, 5), disk({1}, 3, 5),
             disk({1}, 3, 5), disk({1, 3}, 3, 5)};
  o.max_entries_per_append = 1;
  World w(o);
  for (NodeId n = 2; n <= 5; ++n) w.freeze_clock(n);
  // The network loses every entry n1 sends at index 3 or beyond: its own
  // term's entries never reach a majority.
  w.set_drop_filter([](const raft::Message& m) {
    if (m.from() != 1 || !m.has_append_entries()) return false;
    for (const raft::Entry& e : m.append_entries().entries())
      if (e.index() >= 3) return true;
    return false;
  });
  w.phase(
      "Figure 8: n1 becomes leader of term 4 and copies its term-2 entry at "
      "index 2 to n2, n3, n4, a majority; its own entries (index 3 on) are "
      "lost on the way. n1 must not count index 2 as committed");
  w.await(
      "n1 leading", [&] { return w.leader() == 1; }, kElect);
  w.await(
      "index 2 (term 2) on n2, n3 and n4",
      [&] {
        for (NodeId n : {2, 3, 4})
          if (w.core(n).log().term_at(2) != 2) return false;
        return true;
      },
      kCommit);
  w.run_ticks(3 * kE);
  w.phase(
      "Figure 8 (d): crash n1; n5, with its term-3 entry at index 2, wins "
      "term 5 and overwrites index 2 everywhere. Had n1 committed index 2, "
      "a committed entry would now be lost");
  w.crash(1);
  w.set_drop_filter(nullptr);
  w.thaw_clock(5);
  w.await(
      "n5 leading", [&] { return w.leader() == 5; }, kElect);
  w.thaw_all();
  w.restart(1);
  commit(w, "after figure 8");
  finish(w);
  return "n1 did not commit its term-2 entry; n5's term-3 entry won index 2";
}

std::string delayed_append_keeps_entries(const Params& p) {
  World w(options(p, 3, false));
  commit(w, "first");
  const NodeId l = w.await_leader(kElect);
  const NodeId f = other_than(w, {l});
  const NodeId g = other_than(w, {l, f});
  w.phase(fmt::format(
      "cut n{} off; every message takes 1 unit; hold n{} -> n{}, propose a "
      "and b, release the two AppendEntries newest first",
      g, l, f));
  w.set_faults({0, 0, 1, 1});
  w.isolate(g);
  w.hold(l, f);
  w.propose(l, "a");
  w.propose(l, "b");
  // The newer one arrives first and is rejected (a gap); the leader
  // resends a and b together; n{f} acknowledges both; then the older one
  // arrives, before n{f} hears that a and b are committed.
  w.release(l, f, /*reverse=*/true, 3);
  w.run_ticks(kE);
  w.set_faults({});
  w.heal_all();
  const uint64_t index = commit(w, "c");
  finish(w);
  return fmt::format("n{} kept a and b through the late message; c at {}", f,
                     index);
}

std::string stale_append_reply_match(const Params& p) {
  World w(options(p, 3, false));
  commit(w, "first");
  const NodeId l = w.await_leader(kElect);
  w.phase(fmt::format(
      "the links from the leader n{} take 5 ticks, the replies 1: replies "
      "to earlier heartbeats arrive while a new entry is still on its way",
      l));
  for (NodeId n = 1; n <= 3; ++n)
    if (n != l) w.set_delay(l, n, 5 * World::kTickUnits);
  w.run_ticks(2 * kE);
  for (int i = 0; i < 5; ++i) {
    w.propose(l, fmt::format("x{}", i));
    w.run_ticks(3);
  }
  w.run_ticks(2 * kE);
  w.heal_all();
  commit(w, "after");
  finish(w);
  return "nothing committed before a majority held it on disk";
}

std::string leader_crashes_during_replication(const Params& p) {
  World w(options(p, 5, false));
  w.set_faults({0.02, 0.02, 1, 15});
  const int rounds = p.quick ? 4 : 10;
  int crashes = 0;
  for (int round = 0; round < rounds; ++round) {
    const NodeId l = w.await_leader(kElect);
    // Every other round the leader is cut off first, so that what it
    // accepts reaches no one: it comes back with entries on its disk that
    // were never committed and that the next leader overwrites.
    const bool alone = round % 2 == 1;
    w.phase(fmt::format("round {}: proposals at n{}, {}which crashes midway",
                        round + 1, l,
                        alone ? "cut off from the others, " : ""));
    if (alone) w.isolate(l);
    for (int i = 0; i < 6; ++i) {
      w.propose(l, fmt::format("r{}.{}", round, i));
      w.run_ticks(static_cast<int>(w.rng()() % 3));
      if (!w.up(l)) break;
    }
    w.crash(l);
    ++crashes;
    if (alone) {
      w.phase(
          fmt::format("round {}: the others elect a leader and commit; "
                      "then n{} restarts",
                      round + 1, l));
      commit(w, fmt::format("r{}.new", round), false);
      w.heal_all();
    } else {
      w.run_ticks(static_cast<int>(w.rng()() % (2 * kE)));
    }
    w.restart(l);
  }
  w.set_faults({});
  const uint64_t index = commit(w, "barrier");
  finish(w);
  return fmt::format("{} leader crashes; the logs agree up to {}", crashes,
                     index);
}

// ---- Part C -----------------------------------------------------------------

std::string restart_keeps_term_vote_log(const Params& p) {
  World w(options(p, 3, false));
  // f goes down before it ever votes, so that its disk holds no vote:
  // when it comes back, the new term it learns is the only change to its
  // hard state, and nothing else would make a core write it.
  const NodeId f = 1 + static_cast<NodeId>(w.rng()() % 3);
  w.phase(fmt::format(
      "crash n{} before it votes; the others elect, commit, change leaders",
      f));
  w.crash(f);
  for (int i = 0; i < 3; ++i) commit(w, fmt::format("k{}", i));
  for (int round = 0; round < 2; ++round) {
    const NodeId l = w.await_leader(kElect);
    w.crash(l);
    w.restart(l);
    commit(w, fmt::format("round{}", round));
  }
  w.phase(fmt::format(
      "restart n{}: it learns the new term from AppendEntries, without "
      "voting",
      f));
  w.restart(f);
  const uint64_t index = commit(w, "caught up");
  w.phase("crash and restart every node: terms, votes and logs survive");
  std::vector<uint64_t> terms;
  for (NodeId n = 1; n <= 3; ++n) terms.push_back(w.core(n).term());
  for (NodeId n = 1; n <= 3; ++n) w.crash(n);
  for (NodeId n = 1; n <= 3; ++n) {
    w.restart(n);
    if (w.core(n).term() != terms[n - 1])
      w.fail("currentTerm survives a crash",
             fmt::format("n{} was in term {} and restarted in term {}", n,
                         terms[n - 1], w.core(n).term()));
    if (w.core(n).log().last_index() < index)
      w.fail("the log survives a crash",
             fmt::format("n{} had applied up to {} and restarted with {} "
                         "entries",
                         n, index, w.core(n).log().last_index()));
  }
  commit(w, "after");
  finish(w);
  return fmt::format("terms {} and {} entries survived a full restart",
                     fmt::join(terms, "/"), index);
}

std::string one_vote_per_term_across_restarts(const Params& p) {
  WorldOptions o = options(p, 3, false);
  o.disks = {disk({1}, 1), disk({1, 1}, 1), disk({1, 1}, 1)};
  World w(o);
  w.freeze_clock(2);
  w.freeze_clock(3);
  w.cut(1, 2);
  w.phase(
      "n1 (shorter log) campaigns; n3 refuses it but moves to its term; n2 "
      "does not hear it");
  w.await(
      "n3 in term 2", [&] { return w.core(3).term() >= 2; }, kElect);
  w.freeze_clock(1);
  const uint64_t term = w.core(3).term();
  w.phase(fmt::format(
      "n2 campaigns in term {}, n3's term already: n3 votes for it, and "
      "that vote must reach n3's disk before the reply",
      term));
  w.thaw_clock(2);
  w.await(
      fmt::format("n3 voting for n2 in term {}", term),
      [&] { return w.core(3).vote() == 2; }, kElect);
  w.run_ticks(2);
  w.phase("crash and restart n3: it must still have voted for n2");
  w.crash(3);
  w.restart(3);
  if (w.core(3).vote() != 2 && w.core(3).term() == term)
    w.fail("votedFor survives a crash",
           fmt::format("n3 voted for n2 in term {} and restarted with vote "
                       "n{} in that term",
                       term, w.core(3).vote()));
  w.heal_all();
  w.thaw_all();
  commit(w, "after");
  finish(w);
  return fmt::format("n3's term-{} vote survived its crash", term);
}

// ---- Part D -----------------------------------------------------------------

std::string rejoining_node_does_not_depose_leader(const Params& p) {
  World w(options(p, 5, true));
  const NodeId l = w.await_leader(kElect);
  const uint64_t term = w.core(l).term();
  const NodeId s = other_than(w, {l});
  w.phase(fmt::format("isolate n{} for {} ticks", s, 10 * kE));
  w.isolate(s);
  w.run_ticks(10 * kE);
  if (w.core(s).term() != term)
    w.fail("PreVote: a node that cannot win does not raise its term",
           fmt::format("n{}, alone for {} ticks, moved from term {} to {}: a "
                       "node must win a pre-vote (which changes no term) "
                       "before it increments its term",
                       s, 10 * kE, term, w.core(s).term()));
  w.phase(fmt::format("heal n{}: the leader n{} must keep leading term {}", s,
                      l, term));
  w.heal_all();
  auto disturbed = [&] { return w.leader() != l || w.core(l).term() != term; };
  if (w.run_until(disturbed, 10 * kE))
    w.fail("a rejoining node does not depose a healthy leader",
           fmt::format("after n{} rejoined, n{} no longer leads term {} "
                       "(leader now n{}, term {})",
                       s, l, term, w.leader(), w.core(l).term()));
  commit(w, "after");
  finish(w);
  return fmt::format("n{} rejoined; n{} still leads term {}", s, l, term);
}

std::string isolated_leader_steps_down(const Params& p) {
  World w(options(p, 5, true));
  const NodeId l = w.await_leader(kElect);
  w.phase(fmt::format("isolate the leader n{}", l));
  w.isolate(l);
  if (!w.run_until([&] { return w.core(l).role() != lab05::Role::kLeader; },
                   3 * kE))
    w.fail("CheckQuorum: a leader without a majority steps down",
           fmt::format("n{}, cut off from every follower, still leads after "
                       "{} ticks: a leader that has not heard from a "
                       "majority within an election timeout must step down",
                       l, 3 * kE));
  w.phase("the other four elect a leader; then heal");
  w.await(
      "a new leader among the other four",
      [&] {
        NodeId x = w.leader();
        return x != 0 && x != l;
      },
      kElect);
  w.heal_all();
  commit(w, "after");
  finish(w);
  return fmt::format("n{} stepped down alone", l);
}

std::string asymmetric_partition_recovers(const Params& p) {
  World w(options(p, 5, true));
  const NodeId l = w.await_leader(kElect);
  w.phase(fmt::format(
      "the leader n{} can send but hears nothing (asymmetric partition)", l));
  w.cut_incoming(l);
  w.await(
      fmt::format("n{} stepping down", l),
      [&] { return w.core(l).role() != lab05::Role::kLeader; }, 3 * kE);
  NodeId fresh = 0;
  w.await(
      "a new leader among the others",
      [&] {
        fresh = w.leader();
        return fresh != 0 && fresh != l;
      },
      kElect);
  lab05::ProposeResult r = w.propose(fresh, "during");
  if (r.accepted)
    w.await(
        "\"during\" applied on the four that can talk",
        [&] {
          for (NodeId n = 1; n <= 5; ++n)
            if (n != l && w.applied(n).size() < r.index) return false;
          return true;
        },
        kCommit);
  w.heal_all();
  commit(w, "after");
  finish(w);
  return fmt::format("n{} stepped down; n{} took over", l, fresh);
}

std::string read_index_is_linearizable(const Params& p) {
  World w(options(p, 5, true));
  commit(w, "first");
  const NodeId l = w.await_leader(kElect);
  w.read_index(l);
  w.await(
      "a read at the leader released", [&] { return w.reads_released() >= 1; },
      kCommit);
  w.phase(fmt::format(
      "pause and isolate the leader n{}; the others elect and commit", l));
  w.freeze_clock(l);
  w.isolate(l);
  w.await(
      "a new leader among the others",
      [&] {
        NodeId x = w.leader();
        return x != 0 && x != l && w.core(x).term() > w.core(l).term();
      },
      kElect);
  const NodeId fresh = w.leader();
  for (int i = 0; i < 2; ++i) {
    lab05::ProposeResult r = w.propose(fresh, fmt::format("new{}", i));
    w.await(
        "the new leader committing",
        [&] { return r.accepted && w.max_committed() >= r.index; }, kCommit);
  }
  w.phase(fmt::format(
      "n{} still believes it leads: a read there must not be served", l));
  const size_t released = w.reads_released();
  w.read_index(l);
  w.run_ticks(2 * kE);
  if (w.reads_released() != released)
    w.fail("a deposed leader serves no read",
           fmt::format("n{} released a read although a majority never "
                       "confirmed it still led",
                       l));
  w.thaw_all();
  w.heal_all();
  commit(w, "after");
  finish(w);
  return fmt::format("n{}, deposed, served no read", l);
}

std::string read_index_needs_current_term_commit(const Params& p) {
  World w(options(p, 3, true));
  w.set_faults({0, 0, 2, 2});
  commit(w, "first");
  const NodeId l = w.await_leader(kElect);
  const NodeId f1 = other_than(w, {l});
  const NodeId f2 = other_than(w, {l, f1});
  const uint64_t e = w.core(l).log().last_index() + 1;
  w.phase(fmt::format(
      "n{} commits index {} with n{} only, and nobody hears that it did; "
      "then it crashes",
      l, e, f1));
  w.cut(l, f2);
  w.set_drop_filter([&](const raft::Message& m) {
    return m.from() == l && m.has_append_entries() &&
           m.append_entries().leader_commit() >= e;
  });
  w.propose(l, "e");
  w.await(
      "the leader committing e", [&] { return w.core(l).commit_index() >= e; },
      kCommit);
  w.crash(l);
  w.set_drop_filter(nullptr);
  w.heal_all();
  w.phase(fmt::format(
      "n{} (which has e) becomes leader and is asked for a read at once: it "
      "must not answer before an entry of its own term commits",
      f1));
  w.await(
      fmt::format("n{} leading", f1), [&] { return w.leader() == f1; }, kElect);
  w.read_index(f1);
  w.await(
      "the read released", [&] { return w.reads_released() >= 1; }, kCommit);
  w.restart(l);
  commit(w, "after");
  finish(w);
  return fmt::format("n{}'s first read waited for its term's commit", f1);
}

// ---- everything at once -----------------------------------------------------

struct ScheduleStats {
  int crashes = 0, partitions = 0, proposals = 0;
  uint64_t committed = 0;
};

void random_schedule(uint64_t seed, int ticks, ScheduleStats& stats) {
  std::mt19937_64 pick(seed);
  auto chance = [&](double p) { return std::bernoulli_distribution(p)(pick); };
  WorldOptions o;
  o.nodes = std::vector<int>{3, 5, 5, 7}[pick() % 4];
  o.seed = seed;
  o.election_ticks = kE;
  o.part_d = chance(0.5);
  o.max_entries_per_append = std::vector<size_t>{1, 4, 64}[pick() % 3];
  World w(o);
  const int n = o.nodes;
  NetworkFaults faults;
  faults.drop = std::uniform_real_distribution<double>(0, 0.2)(pick);
  faults.duplicate = std::uniform_real_distribution<double>(0, 0.1)(pick);
  faults.max_delay = 1 + static_cast<int>(pick() % 40);
  w.set_faults(faults);
  w.set_crash_mid_ready(0.005);
  w.phase(fmt::format(
      "random schedule: {} nodes, part D {}, {} entries per append, loss "
      "{:.2f}, duplicates {:.2f}, delays up to {} units",
      n, o.part_d ? "on" : "off", o.max_entries_per_append, faults.drop,
      faults.duplicate, faults.max_delay));
  int next_command = 0;
  for (int t = 0; t < ticks; ++t) {
    const NodeId x = 1 + pick() % n;
    const NodeId y = 1 + pick() % n;
    if (chance(0.3)) {
      NodeId l = w.leader();
      if (l == 0 || chance(0.1)) l = x;
      if (w.up(l)) {
        w.propose(l, fmt::format("s{}", next_command++));
        ++stats.proposals;
      }
    }
    if (o.part_d && chance(0.05) && w.leader()) w.read_index(w.leader());
    if (chance(0.01)) {
      w.crash(x);
      ++stats.crashes;
    }
    if (chance(0.03)) w.restart(x);
    if (chance(0.01) && x != y) {
      w.cut_both(x, y);
      ++stats.partitions;
    }
    if (chance(0.005)) {
      w.cut_incoming(x);
      ++stats.partitions;
    }
    if (chance(0.02)) w.heal(x, y);
    if (chance(0.01)) w.heal_all();
    if (chance(0.005)) w.freeze_clock(x);
    if (chance(0.02)) w.thaw_clock(x);
    w.run_ticks(1);
  }
  w.phase("the storm ends: heal, restart, thaw; the cluster must recover");
  w.set_crash_mid_ready(0);
  w.set_faults({});
  w.heal_all();
  w.thaw_all();
  for (NodeId id = 1; id <= static_cast<NodeId>(n); ++id) w.restart(id);
  stats.committed += commit(w, "barrier");
  finish(w);
}

std::string random_schedules(const Params& p) {
  const int schedules = p.quick ? 20 : 100;
  ScheduleStats stats;
  for (int i = 0; i < schedules; ++i)
    random_schedule(p.seed * 7919 + static_cast<uint64_t>(i), 400, stats);
  return fmt::format(
      "{} schedules of 400 ticks: {} proposals, {} crashes, {} partitions; "
      "{} entries committed at the barriers",
      schedules, stats.proposals, stats.crashes, stats.partitions,
      stats.committed);
}

std::string deterministic_replay(const Params& p) {
  auto run = [&](uint64_t seed) {
    Totals before = totals();
    totals() = {};
    ScheduleStats stats;
    random_schedule(seed, 200, stats);
    Totals got = totals();
    totals() = before;
    return got;
  };
  // Three schedules, each twice: one schedule alone can, rarely, come out
  // the same even from a core whose timeouts are not its generator's.
  Totals a, c;
  for (uint64_t k = 0; k < 3; ++k) {
    const Totals first = run(p.seed + k);
    const Totals second = run(p.seed + k);
    if (first.digest != second.digest || first.events != second.events)
      throw Violation{fmt::format(
          "violated: the same seed gives the same run\n"
          "  two runs of seed {} differed ({} and {} events; trace digests "
          "{:016x} and {:016x}). The core must draw every random choice "
          "from the generator it is given (RaftConfig's Rng), and never "
          "read a clock, std::random_device or state left by an earlier "
          "core\n",
          p.seed + k, first.events, second.events, first.digest,
          second.digest)};
    totals().events += first.events + second.events;
    if (k == 0) a = first;
    if (k == 1) c = first;
  }
  totals().digest = totals().digest * 31 + a.digest;
  if (a.digest == c.digest)
    throw Violation{
        "violated: different seeds give different runs\n"
        "  seeds differ but the traces are identical: the core ignores its "
        "generator\n"};
  return fmt::format(
      "three schedules run twice each; seed {}: {} events both times, digest "
      "{:016x}",
      p.seed, a.events, a.digest);
}

const std::map<std::string_view, Scenario>& table() {
  static const std::map<std::string_view, Scenario> t = {
      {"elects_one_leader", elects_one_leader},
      {"stable_leader_keeps_term", stable_leader_keeps_term},
      {"split_votes_resolve", split_votes_resolve},
      {"new_leader_after_crash", new_leader_after_crash},
      {"stale_log_cannot_win", stale_log_cannot_win},
      {"stale_vote_replies_ignored", stale_vote_replies_ignored},
      {"stale_append_does_not_reset_timer", stale_append_does_not_reset_timer},
      {"stale_leader_steps_down_on_reply", stale_leader_steps_down_on_reply},
      {"replicates_and_commits", replicates_and_commits},
      {"figure7_follower_logs", figure7_follower_logs},
      {"figure8_previous_term_not_counted", figure8_previous_term_not_counted},
      {"delayed_append_keeps_entries", delayed_append_keeps_entries},
      {"stale_append_reply_match", stale_append_reply_match},
      {"leader_crashes_during_replication", leader_crashes_during_replication},
      {"restart_keeps_term_vote_log", restart_keeps_term_vote_log},
      {"one_vote_per_term_across_restarts", one_vote_per_term_across_restarts},
      {"rejoining_node_does_not_depose_leader",
       rejoining_node_does_not_depose_leader},
      {"isolated_leader_steps_down", isolated_leader_steps_down},
      {"asymmetric_partition_recovers", asymmetric_partition_recovers},
      {"read_index_is_linearizable", read_index_is_linearizable},
      {"read_index_needs_current_term_commit",
       read_index_needs_current_term_commit},
      {"random_schedules", random_schedules},
      {"deterministic_replay", deterministic_replay},
  };
  return t;
}

}  // namespace

Totals& totals() {
  static Totals t;
  return t;
}

const Scenario* find_scenario(std::string_view name) {
  auto it = table().find(name);
  return it == table().end() ? nullptr : &it->second;
}

double bench_events_per_second(double seconds) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const uint64_t events = totals().events;
  ScheduleStats stats;
  for (uint64_t seed = 1;
       std::chrono::duration<double>(Clock::now() - start).count() < seconds;
       ++seed)
    random_schedule(seed, 400, stats);
  const double elapsed =
      std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(totals().events - events) / elapsed;
}

}  // namespace kv::raftsim
