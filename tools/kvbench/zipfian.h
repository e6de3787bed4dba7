// Zipfian: ranks 0..n-1 drawn with probability proportional to
// 1/(rank+1)^theta, by the method of Gray et al., "Quickly Generating
// Billion-Record Synthetic Databases" (SIGMOD 1994), the one YCSB uses: one
// uniform draw and one pow() per rank, after computing zeta(n, theta) once.
// Rank 0 is the most popular; kvbench does not scramble ranks, so key:0 is
// the hottest key and a reader of the numbers can tell.
//
// The method is exact for ranks 0 and 1 and approximates the tail; the test
// (zipfian_test.cc) checks the rank-frequency law within a tolerance.
#pragma once

#include <cstdint>

#include "tools/kvbench/rng.h"

namespace kv::kvbench {

class Zipfian {
 public:
  // n >= 1, 0 < theta < 1 (the method divides by 1 - theta).
  Zipfian(uint64_t n, double theta);

  uint64_t next(Rng& rng) const;  // a rank in [0, n)

  uint64_t n() const { return n_; }
  double theta() const { return theta_; }

  // sum_{i=1..n} 1/i^theta: the first exact_terms terms summed, the rest by
  // the Euler-Maclaurin formula, so that a key space of a billion starts at
  // once instead of after a billion pow() calls.
  static double zeta(uint64_t n, double theta, uint64_t exact_terms = 10000);

 private:
  uint64_t n_;
  double theta_;
  double alpha_;  // 1 / (1 - theta)
  double zetan_;
  double eta_;
  double half_pow_theta_;  // 0.5^theta: where rank 1 ends
};

}  // namespace kv::kvbench
