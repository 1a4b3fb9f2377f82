#pragma once
// A random number in [0, 1) for each position of a tensor, from a seed: a splitmix64
// hash of (seed, index). The same (seed, index) always gives the same number, so a
// dropout mask can be drawn in parallel chunks, and recomputed in backward instead of
// being kept.
#include <cstdint>

namespace axon::kernels {

inline double position_uniform(uint64_t seed, uint64_t index) {
  uint64_t x = seed + 0x9E3779B97F4A7C15ull * (index + 1);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  return static_cast<double>(x >> 11) * 0x1.0p-53;
}

}  // namespace axon::kernels
