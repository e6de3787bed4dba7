// Histogram: latency samples in nanoseconds, in log-linear buckets in the
// spirit of HdrHistogram, so that a run of any length keeps a fixed 58 KiB
// per thread and no vector of samples.
//
// Values below 256 ns have a bucket each. Above, every power of two
// [2^e, 2^(e+1)) is cut into 128 equal sub-buckets of width 2^(e-7), so a
// bucket is never wider than 1/128 of the smallest value it holds. A
// percentile is reported as the middle of its bucket (clamped to the exact
// min and max), hence:
//
//   relative error of any reported percentile <= 1/256 (0.39 %)
//
// against the recorded sample of the same rank. count, min and max are
// exact; mean is exact up to double rounding. The whole uint64_t range is
// covered, so no value is ever clipped.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace kv::kvbench {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;
  // 256 exact buckets for [0, 256), then 128 for each exponent 8..63.
  static constexpr size_t kBuckets =
      2 * kSubBuckets + (63 - 8 + 1) * kSubBuckets;
  // The guarantee stated above, for tests and --help.
  static constexpr double kMaxRelativeError = 1.0 / 256;

  void record(uint64_t value);
  void merge(const Histogram& other);
  void reset();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const;
  // The value at rank ceil(percent/100 * count) (at least 1) in sorted
  // order, within kMaxRelativeError; percent 0 gives min, 100 gives max.
  // 0 when empty.
  uint64_t percentile(double percent) const;
  // How many samples fell in buckets whose lowest value is >= value: the
  // count above a threshold, at the histogram's resolution.
  uint64_t count_at_or_above(uint64_t value) const;

  static size_t bucket_of(uint64_t value);
  static uint64_t bucket_low(size_t bucket);
  static uint64_t bucket_width(size_t bucket);

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace kv::kvbench
