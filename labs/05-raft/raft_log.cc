#include "raft_log.h"

#include "common/check.h"

namespace kv::lab05 {

RaftLog::RaftLog(std::vector<raft::Entry> restored)
    : entries_(std::move(restored)), stable_index_(entries_.size()) {
  for (size_t i = 0; i < entries_.size(); ++i)
    KV_CHECK(entries_[i].index() == i + 1, "restored log out of order");
}

uint64_t RaftLog::term_at(uint64_t index) const {
  if (index == 0 || index > last_index()) return 0;
  return entries_[index - 1].term();
}

const raft::Entry& RaftLog::at(uint64_t index) const {
  KV_CHECK(index >= 1 && index <= last_index(), "log index out of range");
  return entries_[index - 1];
}

uint64_t RaftLog::first_index_of_term(uint64_t term,
                                      uint64_t at_or_before) const {
  uint64_t index = std::min(at_or_before, last_index());
  while (index > 1 && term_at(index - 1) == term) --index;
  return index;
}

uint64_t RaftLog::last_index_of_term(uint64_t term) const {
  for (uint64_t index = last_index(); index >= 1; --index) {
    if (term_at(index) == term) return index;
    if (term_at(index) < term) break;  // terms only grow along the log
  }
  return 0;
}

std::vector<raft::Entry> RaftLog::slice(uint64_t from, size_t max) const {
  std::vector<raft::Entry> out;
  for (uint64_t i = std::max<uint64_t>(from, 1);
       i <= last_index() && out.size() < max; ++i)
    out.push_back(entries_[i - 1]);
  return out;
}

void RaftLog::append(raft::Entry entry) {
  KV_CHECK(entry.index() == last_index() + 1, "append out of order");
  entries_.push_back(std::move(entry));
}

void RaftLog::truncate_from(uint64_t index) {
  KV_CHECK(index >= 1, "truncate_from(0)");
  if (index > last_index()) return;
  entries_.resize(index - 1);
  stable_index_ = std::min(stable_index_, index - 1);
}

std::vector<raft::Entry> RaftLog::unstable() const {
  return slice(stable_index_ + 1, entries_.size());
}

void RaftLog::stable_to(uint64_t index, uint64_t term) {
  // A Ready's entries may since have been replaced by a newer leader's:
  // only confirm what is still the same entry.
  if (index <= last_index() && term_at(index) == term)
    stable_index_ = std::max(stable_index_, index);
}

}  // namespace kv::lab05
