// See zipfian.h. Variable names follow Gray et al. and YCSB's
// ZipfianGenerator, so the two can be read side by side.
#include "tools/kvbench/zipfian.h"

#include <algorithm>
#include <cmath>

#include "common/check.h"

namespace kv::kvbench {

double Zipfian::zeta(uint64_t n, double theta, uint64_t exact_terms) {
  uint64_t exact = std::min(n, exact_terms);
  double sum = 0;
  for (uint64_t i = 1; i <= exact; ++i)
    sum += 1.0 / std::pow(static_cast<double>(i), theta);
  if (exact == n) return sum;
  // sum_{i=m..n} f(i) ~ integral_m^n f + (f(m) + f(n))/2
  //                      + (f'(n) - f'(m))/12, with f(x) = x^-theta.
  // The next term is of order m^-(theta+3), below double precision here.
  auto f = [theta](double x) { return std::pow(x, -theta); };
  auto df = [theta](double x) { return -theta * std::pow(x, -theta - 1); };
  double m = static_cast<double>(exact + 1);
  double big_n = static_cast<double>(n);
  double integral =
      (std::pow(big_n, 1 - theta) - std::pow(m, 1 - theta)) / (1 - theta);
  return sum + integral + (f(m) + f(big_n)) / 2 + (df(big_n) - df(m)) / 12;
}

Zipfian::Zipfian(uint64_t n, double theta)
    : n_(n),
      theta_(theta),
      alpha_(1.0 / (1.0 - theta)),
      zetan_(zeta(n, theta)),
      half_pow_theta_(std::pow(0.5, theta)) {
  KV_CHECK(n >= 1, "a Zipfian needs at least one rank");
  KV_CHECK(theta > 0 && theta < 1, "Gray's method needs 0 < theta < 1");
  double zeta2 = 1.0 + half_pow_theta_;
  eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) /
         (1.0 - zeta2 / zetan_);
}

uint64_t Zipfian::next(Rng& rng) const {
  double u = rng.uniform();
  double uz = u * zetan_;
  if (uz < 1.0) return 0;
  if (uz < 1.0 + half_pow_theta_) return std::min<uint64_t>(1, n_ - 1);
  auto rank = static_cast<uint64_t>(static_cast<double>(n_) *
                                    std::pow(eta_ * u - eta_ + 1.0, alpha_));
  return std::min(rank, n_ - 1);
}

}  // namespace kv::kvbench
