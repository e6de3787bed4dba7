// Backlog: the leader's most recent writes, in offset order, kept in memory
// so that a follower that reconnects after a short absence gets only what
// it missed instead of the whole state. Bounded in bytes: once it holds
// more than max_bytes, the oldest writes go, and a follower that needs
// them gets a full sync instead (position.h, plan_sync). The backlog is
// not kept across a restart of the leader: it starts empty at the offset
// the leader recovered. Not thread-safe: the Node guards it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace kv::lab04 {

struct Write {
  enum class Op { kSet, kDel };
  uint64_t offset = 0;
  Op op = Op::kSet;
  std::string key;
  std::string value;  // kSet only

  bool operator==(const Write&) const = default;
};

class Backlog {
 public:
  // Empty; the next write appended must have offset last_offset + 1.
  Backlog(uint64_t last_offset, size_t max_bytes);

  // write.offset must be last_offset() + 1.
  void append(Write write);
  // Forgets everything and starts again after last_offset (promotion).
  void reset(uint64_t last_offset);

  uint64_t last_offset() const { return last_offset_; }
  // The oldest offset held, or last_offset() + 1 when empty.
  uint64_t first_offset() const { return last_offset_ + 1 - writes_.size(); }
  size_t bytes() const { return bytes_; }

  // Writes from offset `from` on, up to max_bytes of them (at least one if
  // any), appended to out. from must be >= first_offset(); returns false
  // (and copies nothing) if the backlog no longer holds it.
  bool copy_from(uint64_t from, size_t max_bytes,
                 std::vector<Write>& out) const;

 private:
  static size_t size_of(const Write& write);

  const size_t max_bytes_;
  uint64_t last_offset_;
  std::deque<Write> writes_;  // offsets first_offset() .. last_offset_
  size_t bytes_ = 0;
};

}  // namespace kv::lab04
