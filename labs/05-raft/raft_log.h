// The in-memory Raft log: entries from index 1, and which of them the
// runtime has confirmed are on disk. Pure: the runtime persists what
// RaftCore::ready() hands out. Lab 06 changes this file to start the log
// after a snapshot.
#pragma once

#include <cstdint>
#include <vector>

#include "raft.pb.h"

namespace kv::lab05 {

namespace raft = ::kvlab::raft;  // raft.proto's types

class RaftLog {
 public:
  RaftLog() = default;
  // Restores entries the runtime read back from disk: all are stable.
  explicit RaftLog(std::vector<raft::Entry> restored);

  uint64_t last_index() const { return entries_.size(); }
  uint64_t last_term() const { return term_at(last_index()); }
  // The term of the entry at index; 0 for index 0 and past the end.
  uint64_t term_at(uint64_t index) const;
  const raft::Entry& at(uint64_t index) const;  // 1 <= index <= last
  // The first index holding an entry of term (term appears in the log).
  uint64_t first_index_of_term(uint64_t term, uint64_t at_or_before) const;
  // The last index holding an entry of term, or 0 if none does.
  uint64_t last_index_of_term(uint64_t term) const;
  // Entries [from, from + max) that exist.
  std::vector<raft::Entry> slice(uint64_t from, size_t max) const;

  // Appends one entry at last_index() + 1.
  void append(raft::Entry entry);
  // Drops every entry from index on (a conflict with the leader, §5.3).
  void truncate_from(uint64_t index);

  // Entries not yet confirmed on disk, and the confirmation.
  std::vector<raft::Entry> unstable() const;
  uint64_t stable_index() const { return stable_index_; }
  void stable_to(uint64_t index, uint64_t term);

 private:
  std::vector<raft::Entry> entries_;  // entries_[i] has index i + 1
  uint64_t stable_index_ = 0;         // entries up to here are on disk
};

}  // namespace kv::lab05
