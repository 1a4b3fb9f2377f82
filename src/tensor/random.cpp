#include "axon/random.h"

#include <bit>
#include <cmath>
#include <numbers>

namespace axon {

namespace {

__extension__ typedef unsigned __int128 uint128;  // GCC/Clang builtin; the fast way to Lemire's product

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

Generator::Generator(uint64_t seed) {
  for (uint64_t& word : s_) word = splitmix64(seed);
}

uint64_t Generator::next_u64() {
  const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = std::rotl(s_[3], 45);
  return result;
}

double Generator::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Generator::uniform(double low, double high) { return low + (high - low) * uniform(); }

double Generator::normal(double mean, double stddev) {
  if (has_spare_) {
    has_spare_ = false;
    return mean + stddev * spare_normal_;
  }
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();
  const double u2 = uniform();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  spare_normal_ = radius * std::sin(angle);
  has_spare_ = true;
  return mean + stddev * radius * std::cos(angle);
}

uint64_t Generator::below(uint64_t n) {
  if (n == 0) fail("Generator::below: n must be positive");
  // Lemire's multiply-and-reject: unbiased without a division in the common case.
  uint128 product = static_cast<uint128>(next_u64()) * n;
  uint64_t low = static_cast<uint64_t>(product);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      product = static_cast<uint128>(next_u64()) * n;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

std::vector<int64_t> Generator::permutation(int64_t n) {
  if (n < 0) fail("Generator::permutation: n must be >= 0, got ", n);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(order[static_cast<size_t>(i)], order[below(static_cast<uint64_t>(i) + 1)]);
  return order;
}

Tensor Generator::uniform(const Shape& shape, double low, double high, DType dtype) {
  if (!(low <= high)) fail("Generator::uniform: low ", low, " is above high ", high);
  Tensor t = Tensor::empty(shape, dtype);
  dispatch(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(uniform(low, high));
  });
  return t;
}

Tensor Generator::normal(const Shape& shape, double mean, double stddev, DType dtype) {
  if (!(stddev >= 0)) fail("Generator::normal: stddev must be >= 0, got ", stddev);
  Tensor t = Tensor::empty(shape, dtype);
  dispatch(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(normal(mean, stddev));
  });
  return t;
}

std::array<uint64_t, 6> Generator::state() const {
  return {s_[0], s_[1], s_[2], s_[3], has_spare_ ? 1u : 0u, std::bit_cast<uint64_t>(spare_normal_)};
}

void Generator::set_state(const std::array<uint64_t, 6>& state) {
  for (size_t i = 0; i < 4; ++i) s_[i] = state[i];
  has_spare_ = state[4] != 0;
  spare_normal_ = std::bit_cast<double>(state[5]);
}

}  // namespace axon

namespace axon {

Generator& global_generator() {
  static Generator generator;
  return generator;
}

void manual_seed(uint64_t seed) { global_generator() = Generator(seed); }

}  // namespace axon
