// Rng: the one pseudo-random generator kvbench draws from (xoshiro256**,
// seeded through splitmix64), so that a run is a function of --seed: each
// connection gets its own streams, whatever thread serves it. std::mt19937
// would do, but its distributions differ between standard libraries, and a
// figure in a handout must be reproducible from its command line.
#pragma once

#include <cmath>
#include <cstdint>

namespace kv::kvbench {

// splitmix64's output function: a good 64-bit mixer on its own (values
// and fillers hash their fields with it).
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : state_) {
      seed += 0x9e3779b97f4a7c15ULL;
      word = mix64(seed);
    }
  }
  // A stream for (seed, stream, substream): connection i's key stream and
  // its arrival stream do not overlap, nor do connections.
  static Rng for_stream(uint64_t seed, uint64_t stream, uint64_t substream) {
    return Rng(mix64(seed ^ mix64(stream * 0x100000001b3ULL + substream)));
  }

  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  // Uniform in [0, n), n > 0. Lemire's multiply-shift: the bias is at most
  // n / 2^64, far below anything a benchmark could see.
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >>
                                 64);
  }
  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Exponential with the given mean (Poisson arrivals).
  double exponential(double mean) { return -mean * std::log1p(-uniform()); }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

}  // namespace kv::kvbench
