// One readable line per message, for the core's log and the simulator's
// trace.
#include <fmt/format.h>

#include "raft_core.h"

namespace kv::lab05 {

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

std::string describe(const raft::Message& m) {
  switch (m.body_case()) {
    case raft::Message::kRequestVote: {
      const raft::RequestVote& rv = m.request_vote();
      return fmt::format("{} term={} last={}/{}",
                         rv.pre_vote() ? "PreVote" : "RequestVote", m.term(),
                         rv.last_log_index(), rv.last_log_term());
    }
    case raft::Message::kRequestVoteReply: {
      const raft::RequestVoteReply& r = m.request_vote_reply();
      return fmt::format("{}Reply term={} {}",
                         r.pre_vote() ? "PreVote" : "Vote", m.term(),
                         r.granted() ? "granted" : "refused");
    }
    case raft::Message::kAppendEntries: {
      const raft::AppendEntries& ae = m.append_entries();
      std::string entries;
      for (const raft::Entry& e : ae.entries()) {
        if (!entries.empty()) entries += ' ';
        entries += fmt::format("{}/{}", e.index(), e.term());
      }
      return fmt::format(
          "AppendEntries term={} prev={}/{} entries=[{}] commit={}{}", m.term(),
          ae.prev_log_index(), ae.prev_log_term(), entries, ae.leader_commit(),
          ae.read_round() ? fmt::format(" round={}", ae.read_round()) : "");
    }
    case raft::Message::kAppendEntriesReply: {
      const raft::AppendEntriesReply& r = m.append_entries_reply();
      if (r.success())
        return fmt::format(
            "AppendReply term={} ok match={}{}", m.term(), r.index(),
            r.read_round() ? fmt::format(" round={}", r.read_round()) : "");
      return fmt::format(
          "AppendReply term={} reject prev={} conflict_term={} "
          "conflict_index={}",
          m.term(), r.index(), r.conflict_term(), r.conflict_index());
    }
    case raft::Message::BODY_NOT_SET:
      break;
  }
  return fmt::format("(empty message) term={}", m.term());
}

}  // namespace kv::lab05
