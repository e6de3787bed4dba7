// The key choosers' distributions, from many seeded draws: Zipfian's
// rank-frequency law, uniform's coverage, and the slices --verify uses.
#include "tools/kvbench/zipfian.h"

#include <cmath>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "tools/kvbench/workload.h"

namespace kv::kvbench {
namespace {

std::vector<uint64_t> draw_counts(const Zipfian& zipf, int draws,
                                  uint64_t seed) {
  Rng rng(seed);
  std::vector<uint64_t> counts(zipf.n());
  for (int i = 0; i < draws; ++i) {
    uint64_t rank = zipf.next(rng);
    EXPECT_LT(rank, zipf.n());
    ++counts[rank];
  }
  return counts;
}

TEST(ZipfianTest, RankFrequencyFollowsTheLaw) {
  for (double theta : {0.5, 0.8, 0.99}) {
    SCOPED_TRACE(theta);
    const uint64_t n = 1000;
    Zipfian zipf(n, theta);
    constexpr int kDraws = 2'000'000;
    std::vector<uint64_t> counts = draw_counts(zipf, kDraws, 42);
    // Rank 0 is the most frequent.
    for (uint64_t r = 1; r < n; ++r) ASSERT_GT(counts[0], counts[r]) << r;
    // p(r) = (r+1)^-theta / zeta(n). Gray's method is exact for ranks 0
    // and 1; its continuous tail over-draws the next few ranks (rank 2 by
    // up to ~18 % at theta 0.99) and is within a few percent from rank 5.
    double zeta = Zipfian::zeta(n, theta);
    auto law = [&](uint64_t r) {
      return kDraws / std::pow(static_cast<double>(r + 1), theta) / zeta;
    };
    for (uint64_t r : {0, 1}) {
      SCOPED_TRACE(r);
      EXPECT_NEAR(static_cast<double>(counts[r]), law(r), 0.02 * law(r));
    }
    for (uint64_t r : {2, 3, 4}) {
      SCOPED_TRACE(r);
      EXPECT_NEAR(static_cast<double>(counts[r]), law(r), 0.25 * law(r));
    }
    for (uint64_t r : {5, 9, 19, 49, 99}) {
      SCOPED_TRACE(r);
      EXPECT_NEAR(static_cast<double>(counts[r]), law(r), 0.10 * law(r));
    }
    for (auto [low, high] : {std::pair<uint64_t, uint64_t>{10, 100},
                             std::pair<uint64_t, uint64_t>{100, 1000}}) {
      SCOPED_TRACE(low);
      double got = 0, want = 0;
      for (uint64_t r = low; r < high; ++r) {
        got += static_cast<double>(counts[r]);
        want += law(r);
      }
      EXPECT_NEAR(got, want, 0.05 * want);
    }
    // Ratios between ranks follow (r2+1 / r1+1)^theta.
    double ratio =
        static_cast<double>(counts[0]) / static_cast<double>(counts[9]);
    EXPECT_NEAR(ratio, std::pow(10.0, theta), 0.10 * std::pow(10.0, theta));
    // The tail is not empty: the far ranks are drawn too.
    uint64_t tail = 0;
    for (uint64_t r = n / 2; r < n; ++r) tail += counts[r];
    EXPECT_GT(tail, 0u);
  }
}

TEST(ZipfianTest, SameSeedSameDraws) {
  Zipfian zipf(100000, 0.99);
  Rng a(7), b(7), c(8);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = zipf.next(a);
    EXPECT_EQ(x, zipf.next(b));
    differs |= x != zipf.next(c);
  }
  EXPECT_TRUE(differs);
}

TEST(ZipfianTest, TinyKeySpaces) {
  Rng rng(1);
  Zipfian one(1, 0.99);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(one.next(rng), 0u);
  Zipfian two(2, 0.99);
  std::vector<uint64_t> counts = draw_counts(two, 100000, 3);
  EXPECT_GT(counts[0], counts[1]);
  EXPECT_GT(counts[1], 0u);
}

TEST(ZipfianTest, ZetaTailApproximationMatchesTheExactSum) {
  for (double theta : {0.2, 0.5, 0.99}) {
    SCOPED_TRACE(theta);
    const uint64_t n = 3'000'000;
    double exact = Zipfian::zeta(n, theta, /*exact_terms=*/n);
    double approximated = Zipfian::zeta(n, theta, /*exact_terms=*/1000);
    EXPECT_NEAR(approximated, exact, 1e-9 * exact);
  }
}

TEST(UniformKeysTest, CoverTheKeySpaceEvenly) {
  const uint64_t n = 1000;
  KeyChooser chooser(KeySlice{0, 1, n}, nullptr);
  Rng rng(5);
  std::vector<uint64_t> counts(n);
  constexpr int kDraws = 500000;
  for (int i = 0; i < kDraws; ++i) {
    uint64_t key = chooser.next(rng);
    ASSERT_LT(key, n);
    ++counts[key];
  }
  double mean = static_cast<double>(kDraws) / n;
  for (uint64_t k = 0; k < n; ++k)
    EXPECT_NEAR(static_cast<double>(counts[k]), mean, 0.25 * mean) << k;
}

TEST(KeySliceTest, OwnedKeysPartitionTheSpace) {
  const uint64_t keys = 103, connections = 10;
  std::set<uint64_t> seen;
  for (uint64_t c = 0; c < connections; ++c) {
    KeySlice slice = owned_keys(keys, connections, c);
    EXPECT_EQ(slice.count, c < 3 ? 11u : 10u);
    for (uint64_t j = 0; j < slice.count; ++j) {
      uint64_t key = slice.key_at(j);
      EXPECT_LT(key, keys);
      EXPECT_EQ(key % connections, c);
      EXPECT_EQ(slice.index_of(key), j);
      EXPECT_TRUE(seen.insert(key).second) << key;
    }
  }
  EXPECT_EQ(seen.size(), keys);
  EXPECT_EQ(owned_keys(3, 5, 4).count, 0u);  // more connections than keys
}

TEST(KeySliceTest, ZipfianOverASliceStaysInIt) {
  KeySlice slice = owned_keys(1000, 7, 3);
  auto zipf = std::make_shared<Zipfian>(slice.count, 0.99);
  KeyChooser chooser(slice, zipf);
  Rng rng(9);
  std::vector<uint64_t> hits(1000);
  for (int i = 0; i < 50000; ++i) {
    uint64_t key = chooser.next(rng);
    ASSERT_EQ(key % 7, 3u);
    ++hits[key];
  }
  EXPECT_GT(hits[3], hits[10]);  // the slice's rank 0 is key:3
}

TEST(KeyNameTest, Format) {
  EXPECT_EQ(key_name(0), "key:0");
  EXPECT_EQ(key_name(99999), "key:99999");
  EXPECT_EQ(key_name(UINT64_MAX), "key:18446744073709551615");
}

}  // namespace
}  // namespace kv::kvbench
