// The Raft core (raft_core.h). Section numbers are the Raft paper's
// (Ongaro and Ousterhout, 2014); "thesis" is Ongaro's PhD thesis.
#include "raft_core.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/check.h"
#include "common/not_implemented.h"

namespace kv::lab05 {

template <typename... Args>
void RaftCore::log_line(std::string_view format, Args&&... args) const {
  if (!config_.logger) return;
  config_.logger(
      fmt::format("n{} {}", config_.id,
                  fmt::vformat(format, fmt::make_format_args(args...))));
}

RaftCore::RaftCore(RaftConfig config, PersistedState restored, Rng rng)
    : config_(std::move(config)),
      rng_(rng),
      log_(std::move(restored.entries)),
      term_(restored.hard_state.term()),
      vote_(restored.hard_state.vote()),
      persisted_(restored.hard_state) {
  KV_CHECK(std::find(config_.voters.begin(), config_.voters.end(),
                     config_.id) != config_.voters.end(),
           "a node must be one of its voters");
  KV_CHECK(config_.election_ticks > config_.heartbeat_ticks,
           "election_ticks must exceed heartbeat_ticks");
  reset_election_timer();
  log_line("start term={} vote={} last={}/{}", term_, vote_, log_.last_index(),
           log_.last_term());
}

// ---- Time -----------------------------------------------------------------

void RaftCore::reset_election_timer() {
  election_elapsed_ = 0;
  std::uniform_int_distribution<int> timeout(config_.election_ticks,
                                             2 * config_.election_ticks - 1);
  randomized_timeout_ = timeout(rng_);
}

void RaftCore::tick() {
  // LAB05 BEGIN: Part A: tick — followers campaign on timeout, leaders beat
  ++election_elapsed_;
  if (role_ != Role::kLeader) {
    if (election_elapsed_ >= randomized_timeout_) campaign();
    return;
  }
  if (election_elapsed_ >= config_.election_ticks) {
    election_elapsed_ = 0;
    if (config_.check_quorum) check_quorum();
    if (role_ != Role::kLeader) return;
  }
  if (++heartbeat_elapsed_ >= config_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    broadcast_append();
  }
  // LAB05 END
}

// ---- Roles (part A) -------------------------------------------------------

void RaftCore::become_follower(uint64_t term, NodeId leader) {
  if (term > term_) {
    log_line("term {}->{}", term_, term);
    term_ = term;
    vote_ = 0;
  }
  if (role_ != Role::kFollower)
    log_line("{}->follower term={}", role_name(role_), term_);
  role_ = Role::kFollower;
  if (leader != 0 && leader != leader_)
    log_line("leader is n{} term={}", leader, term_);
  leader_ = leader;
  progress_.clear();
  pending_reads_.clear();
  reset_election_timer();
}

void RaftCore::become_pre_candidate() {
  log_line("{}->pre-candidate term={} (asks for term {})", role_name(role_),
           term_, term_ + 1);
  role_ = Role::kPreCandidate;
  leader_ = 0;
  granted_ = {config_.id};
  refused_.clear();
  reset_election_timer();
}

void RaftCore::become_candidate() {
  // LAB05 BEGIN: Part A: become_candidate — new term, vote for yourself
  log_line("{}->candidate term={}", role_name(role_), term_ + 1);
  ++term_;
  vote_ = config_.id;
  role_ = Role::kCandidate;
  leader_ = 0;
  granted_ = {config_.id};
  refused_.clear();
  reset_election_timer();
  // LAB05 END
}

void RaftCore::become_leader() {
  // LAB05 BEGIN: Part B: become_leader — reset progress, append a no-op
  log_line("{}->leader term={} last={}/{}", role_name(role_), term_,
           log_.last_index(), log_.last_term());
  role_ = Role::kLeader;
  leader_ = config_.id;
  heartbeat_elapsed_ = 0;
  election_elapsed_ = 0;
  progress_.clear();
  for (NodeId peer : config_.voters)
    if (peer != config_.id)
      progress_[peer] = Progress{log_.last_index() + 1, 0, true, 0};
  // Earlier terms' entries cannot be committed by counting (§5.4.2,
  // Figure 8); an entry of this term can, and commits them with it.
  raft::Entry noop;
  noop.set_index(log_.last_index() + 1);
  noop.set_term(term_);
  noop.set_type(raft::ENTRY_NOOP);
  log_.append(std::move(noop));
  broadcast_append();
  // LAB05 END
}

void RaftCore::campaign() {
  if (config_.pre_vote)
    become_pre_candidate();
  else
    become_candidate();
  const bool pre_vote = role_ == Role::kPreCandidate;
  for (NodeId peer : config_.voters) {
    if (peer == config_.id) continue;
    raft::Message m;
    m.set_to(peer);
    m.set_term(pre_vote ? term_ + 1 : term_);
    raft::RequestVote* rv = m.mutable_request_vote();
    rv->set_last_log_index(log_.last_index());
    rv->set_last_log_term(log_.last_term());
    rv->set_pre_vote(pre_vote);
    send(std::move(m));
  }
  // A one-node cluster has its majority already.
  if (granted_.size() >= quorum()) {
    if (pre_vote) {
      campaign_after_pre_vote();
    } else {
      become_leader();
    }
  }
}

void RaftCore::campaign_after_pre_vote() {
  const bool saved = config_.pre_vote;
  config_.pre_vote = false;
  campaign();
  config_.pre_vote = saved;
}

// ---- Messages -------------------------------------------------------------

bool RaftCore::valid(const raft::Message& m) const {
  // Every field is hostile until checked: a message that breaks the
  // protocol's own rules is dropped whole, never half-applied.
  auto drop = [&](std::string_view why) {
    log_line("drop from n{}: {} ({})", m.from(), why, describe(m));
    return false;
  };
  if (std::find(config_.voters.begin(), config_.voters.end(), m.from()) ==
          config_.voters.end() ||
      m.from() == config_.id)
    return drop("sender is not a peer");
  if (m.to() != config_.id) return drop("addressed to another node");
  switch (m.body_case()) {
    case raft::Message::kRequestVote:
      if (m.request_vote().last_log_term() > m.term())
        return drop("last log term above the candidate's term");
      return true;
    case raft::Message::kAppendEntries: {
      const raft::AppendEntries& ae = m.append_entries();
      if (ae.prev_log_term() > m.term() ||
          (ae.prev_log_index() == 0 && ae.prev_log_term() != 0))
        return drop("bad prev_log_term");
      uint64_t index = ae.prev_log_index();
      uint64_t term = ae.prev_log_term();
      for (const raft::Entry& e : ae.entries()) {
        if (e.index() != ++index) return drop("entries not contiguous");
        if (e.term() < term || e.term() > m.term())
          return drop("entry terms out of order");
        term = e.term();
      }
      return true;
    }
    case raft::Message::kRequestVoteReply:
    case raft::Message::kAppendEntriesReply:
      return true;
    case raft::Message::BODY_NOT_SET:
      break;
  }
  return drop("empty message");
}

void RaftCore::send(raft::Message m) {
  m.set_from(config_.id);
  if (m.term() == 0) m.set_term(term_);
  outbox_.push_back(std::move(m));
}

void RaftCore::step(const raft::Message& m) {
  if (!valid(m)) return;
  // LAB05 BEGIN: Part A: step — the term rules of every message (§5.1)
  const bool vote_request = m.has_request_vote();
  const bool pre_vote =
      (vote_request && m.request_vote().pre_vote()) ||
      (m.has_request_vote_reply() && m.request_vote_reply().pre_vote());
  if (m.term() > term_) {
    if (pre_vote &&
        !(m.has_request_vote_reply() && !m.request_vote_reply().granted())) {
      // A pre-vote (or a granted pre-vote reply) carries the term its
      // sender would campaign in, not one it holds: no one moves to it.
    } else if (vote_request && config_.check_quorum && in_leader_lease()) {
      // CheckQuorum's lease (thesis §4.2.3): we heard from a leader less
      // than an election timeout ago, so this candidate cannot be
      // replacing a dead one. Ignore it, term and all.
      log_line("ignore RequestVote from n{} term={}: leader n{} is alive",
               m.from(), m.term(), leader_);
      return;
    } else {
      become_follower(m.term(), m.has_append_entries() ? m.from() : 0);
    }
  } else if (m.term() < term_) {
    // A stale leader or candidate learns our term from the refusal and
    // steps down; stale replies are simply late.
    if (m.has_append_entries()) {
      raft::Message reply;
      reply.set_to(m.from());
      raft::AppendEntriesReply* r = reply.mutable_append_entries_reply();
      r->set_success(false);
      r->set_index(m.append_entries().prev_log_index());
      send(std::move(reply));
    } else if (vote_request) {
      handle_request_vote(m);
    }
    return;
  }
  // LAB05 END
  switch (m.body_case()) {
    case raft::Message::kRequestVote:
      handle_request_vote(m);
      break;
    case raft::Message::kRequestVoteReply:
      handle_vote_reply(m);
      break;
    case raft::Message::kAppendEntries:
      handle_append_entries(m);
      break;
    case raft::Message::kAppendEntriesReply:
      handle_append_reply(m);
      break;
    case raft::Message::BODY_NOT_SET:
      break;
  }
}

// ---- Elections (part A) ---------------------------------------------------

bool RaftCore::candidate_log_up_to_date(const raft::RequestVote& rv) const {
  // LAB05 BEGIN: Part A: up-to-date — compare last terms, then last indexes
  if (rv.last_log_term() != log_.last_term())
    return rv.last_log_term() > log_.last_term();
  return rv.last_log_index() >= log_.last_index();
  // LAB05 END
}

void RaftCore::handle_request_vote(const raft::Message& m) {
  const raft::RequestVote& rv = m.request_vote();
  bool grant = false;
  uint64_t reply_term = term_;
  // LAB05 BEGIN: Part A: handle_request_vote — one vote per term, logs
  if (rv.pre_vote()) {
    // Would we vote in the term it asks for? Nothing here changes.
    grant =
        m.term() > term_ && !in_leader_lease() && candidate_log_up_to_date(rv);
    if (grant) reply_term = m.term();
  } else if (m.term() == term_) {
    const bool free = vote_ == m.from() || (vote_ == 0 && leader_ == 0);
    grant = free && candidate_log_up_to_date(rv);
    if (grant) {
      vote_ = m.from();
      reset_election_timer();
    }
  }
  // LAB05 END
  log_line("{} {} for n{} term={} (our last={}/{}, theirs={}/{})",
           grant ? "grant" : "refuse", rv.pre_vote() ? "pre-vote" : "vote",
           m.from(), m.term(), log_.last_index(), log_.last_term(),
           rv.last_log_index(), rv.last_log_term());
  raft::Message reply;
  reply.set_to(m.from());
  reply.set_term(reply_term);
  raft::RequestVoteReply* r = reply.mutable_request_vote_reply();
  r->set_granted(grant);
  r->set_pre_vote(rv.pre_vote());
  send(std::move(reply));
}

void RaftCore::handle_vote_reply(const raft::Message& m) {
  const raft::RequestVoteReply& r = m.request_vote_reply();
  // LAB05 BEGIN: Part A: handle_vote_reply — count this campaign's votes
  if (r.pre_vote()) {
    if (role_ != Role::kPreCandidate) return;
    if (r.granted() && m.term() != term_ + 1) return;
  } else if (role_ != Role::kCandidate || m.term() != term_) {
    return;
  }
  (r.granted() ? granted_ : refused_).insert(m.from());
  if (granted_.size() >= quorum()) {
    if (r.pre_vote())
      campaign_after_pre_vote();
    else
      become_leader();
  } else if (refused_.size() >= quorum()) {
    become_follower(term_, 0);
  }
  // LAB05 END
}

// ---- Replication (part B) -------------------------------------------------

ProposeResult RaftCore::propose(std::string command) {
  if (role_ != Role::kLeader) return {false, 0, term_, leader_};
  raft::Entry entry;
  entry.set_index(log_.last_index() + 1);
  entry.set_term(term_);
  entry.set_type(raft::ENTRY_COMMAND);
  entry.set_command(std::move(command));
  const uint64_t index = entry.index();
  log_.append(std::move(entry));
  broadcast_append();
  return {true, index, term_, config_.id};
}

void RaftCore::broadcast_append() {
  for (NodeId peer : config_.voters)
    if (peer != config_.id) send_append(peer);
}

void RaftCore::send_append(NodeId peer) {
  Progress& p = progress_.at(peer);
  // LAB05 BEGIN: Part B: send_append — prev entry, entries from next
  raft::Message m;
  m.set_to(peer);
  raft::AppendEntries* ae = m.mutable_append_entries();
  const uint64_t prev = p.next - 1;
  ae->set_prev_log_index(prev);
  ae->set_prev_log_term(log_.term_at(prev));
  for (raft::Entry& e : log_.slice(p.next, config_.max_entries_per_append))
    *ae->add_entries() = std::move(e);
  ae->set_leader_commit(commit_index_);
  ae->set_read_round(read_round_);
  // Optimistic: the next send continues after these; a rejection or a
  // lost message brings next back (handle_append_reply).
  p.next += ae->entries_size();
  send(std::move(m));
  // LAB05 END
}

void RaftCore::handle_append_entries(const raft::Message& m) {
  const raft::AppendEntries& ae = m.append_entries();
  raft::Message reply;
  reply.set_to(m.from());
  raft::AppendEntriesReply* r = reply.mutable_append_entries_reply();
  r->set_read_round(ae.read_round());
  // LAB05 BEGIN: Part B: handle_append_entries — check prev, merge, commit
  // The leader of our term: a candidate of this term lost.
  if (role_ != Role::kFollower || leader_ != m.from())
    become_follower(term_, m.from());
  election_elapsed_ = 0;
  const uint64_t prev = ae.prev_log_index();
  if (prev > log_.last_index()) {
    r->set_index(prev);
    r->set_conflict_term(0);
    r->set_conflict_index(log_.last_index() + 1);
  } else if (log_.term_at(prev) != ae.prev_log_term()) {
    const uint64_t term = log_.term_at(prev);
    r->set_index(prev);
    r->set_conflict_term(term);
    r->set_conflict_index(log_.first_index_of_term(term, prev));
  } else {
    // Skip what we hold already: a delayed, shorter AppendEntries must not
    // cut entries a later one added. Truncate at the first conflict only.
    for (const raft::Entry& e : ae.entries()) {
      if (e.index() <= log_.last_index()) {
        if (log_.term_at(e.index()) == e.term()) continue;
        if (e.index() <= commit_index_) {
          log_line(
              "drop from n{}: it would overwrite committed entry {} "
              "({})",
              m.from(), e.index(), describe(m));
          return;
        }
        log_line("truncate from {} (had term {}, leader has {})", e.index(),
                 log_.term_at(e.index()), e.term());
        log_.truncate_from(e.index());
      }
      log_.append(e);
    }
    const uint64_t last_new = prev + ae.entries_size();
    // Only up to the last entry this message vouched for: beyond it our
    // log may still differ from the leader's.
    const uint64_t commit = std::min(ae.leader_commit(), last_new);
    if (commit > commit_index_) {
      commit_index_ = commit;
      log_line("commit {} term={}", commit_index_, term_);
    }
    r->set_success(true);
    r->set_index(last_new);
  }
  // LAB05 END
  send(std::move(reply));
}

void RaftCore::handle_append_reply(const raft::Message& m) {
  if (role_ != Role::kLeader) return;
  const raft::AppendEntriesReply& r = m.append_entries_reply();
  Progress& p = progress_.at(m.from());
  if (r.index() > log_.last_index()) {
    log_line("drop from n{}: reply beyond our log ({})", m.from(), describe(m));
    return;
  }
  p.recent_active = true;
  if (r.read_round() > p.read_round) {
    p.read_round = std::min(r.read_round(), read_round_);
    release_reads();
  }
  // LAB05 BEGIN: Part B: handle_append_reply — match/next, or back up
  if (r.success()) {
    // Replies can be late and out of order: match only grows.
    if (r.index() > p.match) {
      p.match = r.index();
      maybe_commit();
    }
    p.next = std::max(p.next, p.match + 1);
    if (p.next <= log_.last_index()) send_append(m.from());
    return;
  }
  // The follower holds everything up to match: a rejection at or below
  // it is an old one, overtaken.
  if (p.match > 0 && r.index() <= p.match) return;
  // Skip the follower's whole conflicting term in one round trip (§5.3).
  uint64_t next = r.conflict_index();
  if (r.conflict_term() != 0) {
    const uint64_t ours = log_.last_index_of_term(r.conflict_term());
    if (ours != 0) next = ours + 1;
  }
  next =
      std::clamp<uint64_t>(next, p.match + 1, std::max<uint64_t>(r.index(), 1));
  p.next = next;
  send_append(m.from());
  // LAB05 END
}

void RaftCore::maybe_commit() {
  // LAB05 BEGIN: Part B: maybe_commit — majority match, current term only
  // The leader counts its own entries once they are on its disk.
  std::vector<uint64_t> matches = {log_.stable_index()};
  for (const auto& [peer, p] : progress_) matches.push_back(p.match);
  std::sort(matches.begin(), matches.end(), std::greater<>());
  const uint64_t candidate = matches[quorum() - 1];
  if (candidate <= commit_index_ || log_.term_at(candidate) != term_) return;
  commit_index_ = candidate;
  // LAB05 END
  log_line("commit {} term={}", commit_index_, term_);
  release_reads();
  // Followers apply as soon as they hear, not a heartbeat later.
  broadcast_append();
}

// ---- PreVote, CheckQuorum, ReadIndex (part D) -----------------------------

bool RaftCore::in_leader_lease() const {
  // LAB05 BEGIN: Part D: in_leader_lease — heard from a leader recently?
  return role_ == Role::kLeader ||
         (leader_ != 0 && election_elapsed_ < config_.election_ticks);
  // LAB05 END
}

void RaftCore::check_quorum() {
  // LAB05 BEGIN: Part D: check_quorum — step down without a live majority
  size_t active = 1;
  for (auto& [peer, p] : progress_) {
    if (p.recent_active) ++active;
    p.recent_active = false;
  }
  if (active < quorum()) {
    log_line("step down: heard from {} of {} nodes in {} ticks", active,
             config_.voters.size(), config_.election_ticks);
    become_follower(term_, 0);
  }
  // LAB05 END
}

ProposeResult RaftCore::read_index(uint64_t request_id) {
  if (role_ != Role::kLeader) return {false, 0, term_, leader_};
  // LAB05 BEGIN: Part D: read_index — a new round, confirmed by a majority
  pending_reads_.push_back(PendingRead{request_id, ++read_round_});
  broadcast_append();
  release_reads();
  // LAB05 END
  return {true, commit_index_, term_, config_.id};
}

void RaftCore::release_reads() {
  // LAB05 BEGIN: Part D: release_reads — acked round, commit in this term
  // Until an entry of this term commits, our commit index may lag what an
  // earlier leader committed (thesis §6.4).
  if (log_.term_at(commit_index_) != term_) return;
  uint64_t acked = read_round_;  // ourselves
  std::vector<uint64_t> rounds = {read_round_};
  for (const auto& [peer, p] : progress_) rounds.push_back(p.read_round);
  std::sort(rounds.begin(), rounds.end(), std::greater<>());
  acked = rounds[quorum() - 1];
  auto it = pending_reads_.begin();
  for (; it != pending_reads_.end() && it->round <= acked; ++it)
    ready_reads_.push_back(ReadState{it->request_id, commit_index_});
  pending_reads_.erase(pending_reads_.begin(), it);
  // LAB05 END
}

// ---- Ready / advance ------------------------------------------------------

bool RaftCore::has_ready() const {
  return term_ != persisted_.term() || vote_ != persisted_.vote() ||
         log_.stable_index() < log_.last_index() || !outbox_.empty() ||
         commit_index_ > applied_index_ || !ready_reads_.empty();
}

Ready RaftCore::ready() {
  Ready rd;
  // LAB05 BEGIN: Part C: ready — new hard state and entries, messages, commits
  if (term_ != persisted_.term() || vote_ != persisted_.vote()) {
    raft::HardState hs;
    hs.set_term(term_);
    hs.set_vote(vote_);
    rd.hard_state = hs;
  }
  rd.entries = log_.unstable();
  rd.messages = std::move(outbox_);
  outbox_.clear();
  rd.committed = log_.slice(applied_index_ + 1, commit_index_ - applied_index_);
  rd.read_states = std::move(ready_reads_);
  ready_reads_.clear();
  // LAB05 END
  return rd;
}

void RaftCore::advance(const Ready& done) {
  // LAB05 BEGIN: Part C: advance — what is on disk now, what is applied
  if (done.hard_state) persisted_ = *done.hard_state;
  if (!done.entries.empty())
    log_.stable_to(done.entries.back().index(), done.entries.back().term());
  if (!done.committed.empty())
    applied_index_ = std::max(applied_index_, done.committed.back().index());
  // The leader's own entries count towards a majority once on its disk.
  if (role_ == Role::kLeader) maybe_commit();
  // LAB05 END
}

}  // namespace kv::lab05
