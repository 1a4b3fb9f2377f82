#pragma once
// Generator: a seeded random number generator (xoshiro256**, seeded by splitmix64).
// The same seed gives the same numbers on every platform and compiler: the
// distributions are our own, not std::*_distribution whose output is unspecified.
#include <array>
#include <cstdint>
#include <vector>

#include "axon/tensor.h"

namespace axon {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed);

  uint64_t next_u64();
  double uniform();                                       // in [0, 1), 53 random bits
  double uniform(double low, double high);                // in [low, high)
  double normal(double mean = 0.0, double stddev = 1.0);  // Box-Muller
  uint64_t below(uint64_t n);                             // uniform integer in [0, n), unbiased
  std::vector<int64_t> permutation(int64_t n);            // Fisher-Yates shuffle of 0..n-1

  Tensor uniform(const Shape& shape, double low, double high, DType dtype = DType::f32);
  Tensor normal(const Shape& shape, double mean, double stddev, DType dtype = DType::f32);

  // The full state, for checkpoints: restoring it replays the same stream.
  std::array<uint64_t, 6> state() const;
  void set_state(const std::array<uint64_t, 6>& state);

 private:
  std::array<uint64_t, 4> s_{};
  double spare_normal_ = 0.0;
  bool has_spare_ = false;
};

// The generator that layers draw initial weights from unless given their own seed.
Generator& global_generator();
void manual_seed(uint64_t seed);  // reseeds global_generator(), as torch.manual_seed

}  // namespace axon
