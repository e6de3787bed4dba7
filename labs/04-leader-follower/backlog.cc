// See backlog.h.
#include "backlog.h"

#include <fmt/format.h>

#include "common/check.h"

namespace kv::lab04 {

Backlog::Backlog(uint64_t last_offset, size_t max_bytes)
    : max_bytes_(max_bytes), last_offset_(last_offset) {}

size_t Backlog::size_of(const Write& write) {
  constexpr size_t kOverhead = 48;  // offset, op, the strings' own size
  return kOverhead + write.key.size() + write.value.size();
}

void Backlog::append(Write write) {
  KV_CHECK(write.offset == last_offset_ + 1,
           fmt::format("backlog append out of order: offset {} after {}",
                       write.offset, last_offset_));
  bytes_ += size_of(write);
  last_offset_ = write.offset;
  writes_.push_back(std::move(write));
  // Keep the newest write even when it alone is over the limit, so that a
  // follower one write behind never needs a full sync.
  while (bytes_ > max_bytes_ && writes_.size() > 1) {
    bytes_ -= size_of(writes_.front());
    writes_.pop_front();
  }
}

void Backlog::reset(uint64_t last_offset) {
  writes_.clear();
  bytes_ = 0;
  last_offset_ = last_offset;
}

bool Backlog::copy_from(uint64_t from, size_t max_bytes,
                        std::vector<Write>& out) const {
  if (from < first_offset()) return false;
  size_t taken = 0;
  for (uint64_t i = from - first_offset(); i < writes_.size(); ++i) {
    if (taken > 0 && taken + size_of(writes_[i]) > max_bytes) break;
    taken += size_of(writes_[i]);
    out.push_back(writes_[i]);
  }
  return true;
}

}  // namespace kv::lab04
