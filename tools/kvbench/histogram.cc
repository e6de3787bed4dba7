// See histogram.h for the bucket layout and its error bound.
#include "tools/kvbench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace kv::kvbench {

size_t Histogram::bucket_of(uint64_t value) {
  if (value < 2 * kSubBuckets) return static_cast<size_t>(value);
  int exponent = 63 - std::countl_zero(value);  // >= 8
  int shift = exponent - kSubBucketBits;
  uint64_t sub = (value >> shift) - kSubBuckets;  // 0..127
  return static_cast<size_t>(kSubBuckets +
                             static_cast<uint64_t>(shift) * kSubBuckets + sub);
}

uint64_t Histogram::bucket_low(size_t bucket) {
  if (bucket < 2 * kSubBuckets) return bucket;
  uint64_t shift = (bucket - kSubBuckets) / kSubBuckets;  // >= 1
  uint64_t sub = (bucket - kSubBuckets) % kSubBuckets;
  return (kSubBuckets + sub) << shift;
}

uint64_t Histogram::bucket_width(size_t bucket) {
  if (bucket < 2 * kSubBuckets) return 1;
  return uint64_t{1} << ((bucket - kSubBuckets) / kSubBuckets);
}

void Histogram::record(uint64_t value) {
  ++counts_[bucket_of(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<double>(value);
}

void Histogram::merge(const Histogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::reset() { *this = Histogram(); }

double Histogram::mean() const {
  return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_);
}

uint64_t Histogram::percentile(double percent) const {
  if (count_ == 0) return 0;
  if (percent <= 0) return min_;
  if (percent >= 100) return max_;
  auto rank = static_cast<uint64_t>(
      std::ceil(percent / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // The middle halves the worst case: a sample anywhere in the bucket
      // is at most half a width away, and a width is <= 1/128 of the low.
      uint64_t middle = bucket_low(i) + bucket_width(i) / 2;
      return std::clamp(middle, min_, max_);
    }
  }
  return max_;
}

uint64_t Histogram::count_at_or_above(uint64_t value) const {
  uint64_t total = 0;
  for (size_t i = bucket_of(value); i < kBuckets; ++i)
    if (bucket_low(i) >= value) total += counts_[i];
  return total;
}

}  // namespace kv::kvbench
