// The histogram against exact percentiles of known samples: every reported
// percentile must be within the bound histogram.h states.
#include "tools/kvbench/histogram.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace kv::kvbench {
namespace {

constexpr double kPercentiles[] = {0,  1,  10,   25,    50,     75, 90,
                                   95, 99, 99.9, 99.99, 99.999, 100};

// The sample of rank ceil(p/100 * n) (1-based), as histogram.h defines.
uint64_t exact_percentile(std::vector<uint64_t> sorted, double p) {
  if (p <= 0) return sorted.front();
  if (p >= 100) return sorted.back();
  auto rank = static_cast<size_t>(
      std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void expect_within_bound(std::vector<uint64_t> samples) {
  Histogram h;
  for (uint64_t v : samples) h.record(v);
  std::sort(samples.begin(), samples.end());
  ASSERT_EQ(h.count(), samples.size());
  EXPECT_EQ(h.min(), samples.front());
  EXPECT_EQ(h.max(), samples.back());
  for (double p : kPercentiles) {
    SCOPED_TRACE(p);
    double want = static_cast<double>(exact_percentile(samples, p));
    double got = static_cast<double>(h.percentile(p));
    EXPECT_LE(std::abs(got - want), want * Histogram::kMaxRelativeError)
        << "got " << got << " want " << want;
  }
  double sum = 0;
  for (uint64_t v : samples) sum += static_cast<double>(v);
  EXPECT_NEAR(h.mean(), sum / static_cast<double>(samples.size()),
              1e-9 * h.mean());
}

TEST(HistogramTest, UniformOverAWideRangeIsWithinTheBound) {
  std::mt19937_64 gen(1);
  // Log-uniform from 1 ns to ~100 s covers every exponent.
  std::uniform_real_distribution<double> exponent(0, 36.5);
  std::vector<uint64_t> samples;
  for (int i = 0; i < 200000; ++i)
    samples.push_back(static_cast<uint64_t>(std::exp2(exponent(gen))));
  expect_within_bound(samples);

  std::uniform_int_distribution<uint64_t> linear(0, 10'000'000'000ULL);
  samples.clear();
  for (int i = 0; i < 200000; ++i) samples.push_back(linear(gen));
  expect_within_bound(samples);
}

TEST(HistogramTest, ExponentialIsWithinTheBound) {
  std::mt19937_64 gen(2);
  std::exponential_distribution<double> dist(1.0 / 250000);  // mean 250 us
  std::vector<uint64_t> samples;
  for (int i = 0; i < 200000; ++i)
    samples.push_back(static_cast<uint64_t>(dist(gen)));
  expect_within_bound(samples);
}

TEST(HistogramTest, ConstantIsExact) {
  Histogram h;
  for (int i = 0; i < 1000; ++i) h.record(123456789);
  for (double p : kPercentiles) EXPECT_EQ(h.percentile(p), 123456789u);
  EXPECT_EQ(h.mean(), 123456789.0);
}

TEST(HistogramTest, BimodalPercentilesLandInTheRightMode) {
  std::vector<uint64_t> samples;
  for (int i = 0; i < 9000; ++i) samples.push_back(50'000 + i);  // ~50 us
  for (int i = 0; i < 1000; ++i) samples.push_back(300'000'000 + i * 7);
  expect_within_bound(samples);
  Histogram h;
  for (uint64_t v : samples) h.record(v);
  EXPECT_LT(h.percentile(89.9), 60'000u);
  EXPECT_GT(h.percentile(90.1), 290'000'000u);
}

TEST(HistogramTest, SingleSampleIsEveryPercentile) {
  Histogram h;
  h.record(987654);
  for (double p : kPercentiles) EXPECT_EQ(h.percentile(p), 987654u);
  EXPECT_EQ(h.min(), 987654u);
  EXPECT_EQ(h.max(), 987654u);
  EXPECT_EQ(h.count(), 1u);
}

TEST(HistogramTest, EmptyReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.percentile(100), 0u);
}

TEST(HistogramTest, ValuesAtTheRangeEdges) {
  const uint64_t kEdges[] = {0,
                             1,
                             127,
                             128,
                             255,
                             256,
                             257,
                             511,
                             512,
                             (uint64_t{1} << 32) - 1,
                             uint64_t{1} << 32,
                             uint64_t{1} << 63,
                             UINT64_MAX - 1,
                             UINT64_MAX};
  for (uint64_t v : kEdges) {
    SCOPED_TRACE(v);
    size_t bucket = Histogram::bucket_of(v);
    ASSERT_LT(bucket, Histogram::kBuckets);
    uint64_t low = Histogram::bucket_low(bucket);
    uint64_t width = Histogram::bucket_width(bucket);
    EXPECT_LE(low, v);
    EXPECT_LE(v - low, width - 1);  // v is inside its bucket
    EXPECT_LE(static_cast<double>(width),
              std::max(1.0, static_cast<double>(low) / 128.0));
    Histogram h;
    h.record(v);
    h.record(v);
    EXPECT_EQ(h.percentile(50), v);  // clamped to the exact min and max
    EXPECT_EQ(h.max(), v);
    EXPECT_EQ(h.min(), v);
  }
  EXPECT_EQ(Histogram::bucket_of(UINT64_MAX), Histogram::kBuckets - 1);
  // Buckets tile the range: each starts where the previous one ends.
  for (size_t b = 1; b < Histogram::kBuckets; ++b)
    ASSERT_EQ(Histogram::bucket_low(b),
              Histogram::bucket_low(b - 1) + Histogram::bucket_width(b - 1))
        << b;
}

TEST(HistogramTest, MergeEqualsRecordingIntoOne) {
  std::mt19937_64 gen(3);
  std::exponential_distribution<double> dist(1.0 / 1e6);
  Histogram one, a, b, c;
  for (int i = 0; i < 30000; ++i) {
    auto v = static_cast<uint64_t>(dist(gen));
    one.record(v);
    (i % 3 == 0 ? a : i % 3 == 1 ? b : c).record(v);
  }
  Histogram merged;
  merged.merge(a);
  merged.merge(b);
  merged.merge(c);
  merged.merge(Histogram());  // an empty one changes nothing
  EXPECT_EQ(merged.count(), one.count());
  EXPECT_EQ(merged.min(), one.min());
  EXPECT_EQ(merged.max(), one.max());
  EXPECT_NEAR(merged.mean(), one.mean(), 1e-9 * one.mean());
  for (double p : kPercentiles)
    EXPECT_EQ(merged.percentile(p), one.percentile(p));
  EXPECT_EQ(merged.count_at_or_above(2'000'000),
            one.count_at_or_above(2'000'000));
}

TEST(HistogramTest, CountAtOrAboveCountsWholeBuckets) {
  Histogram h;
  for (int i = 0; i < 10; ++i) h.record(1'000'000);   // 1 ms
  for (int i = 0; i < 7; ++i) h.record(200'000'000);  // 200 ms
  EXPECT_EQ(h.count_at_or_above(100'000'000), 7u);
  EXPECT_EQ(h.count_at_or_above(0), 17u);
  EXPECT_EQ(h.count_at_or_above(300'000'000), 0u);
}

}  // namespace
}  // namespace kv::kvbench
