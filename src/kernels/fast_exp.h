#pragma once
// exp for float in a form the compiler vectorises (AVX2: 8 at once), for the softmax of
// attention and the gates of the LSTM. A loop of it vectorises only in a file built with
// -fno-trapping-math (CMakeLists.txt names them), which keeps its selects branch-free.
//   exp(x) = 2^n exp(r), n = round(x / ln 2) (by the 1.5 * 2^23 trick), |r| <= ln 2 / 2,
//   exp(r) by Cephes expf's polynomial: relative error ~1e-7; 0 below -87 (and for
//   -inf), exp(88) above 88.
#include <bit>
#include <cmath>
#include <cstdint>

namespace axon::kernels {

inline float fast_exp(float x) {
  const float clamped = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float n = (clamped * 1.44269504f + 12582912.0f) - 12582912.0f;
  const float r = clamped - n * 0.693359375f + n * 2.12194440e-4f;
  float poly = 1.9875691500e-4f;
  poly = poly * r + 1.3981999507e-3f;
  poly = poly * r + 8.3334519073e-3f;
  poly = poly * r + 4.1665795894e-2f;
  poly = poly * r + 1.6666665459e-1f;
  poly = poly * r + 5.0000001201e-1f;
  poly = poly * r * r + r + 1.0f;
  const float power = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
  // 0 below -87 by a bit mask, not a branch.
  const uint32_t keep = x >= -87.0f ? 0xffffffffu : 0u;
  return std::bit_cast<float>(std::bit_cast<uint32_t>(poly * power) & keep);
}

// fast_exp for float, std::exp for double (the gradient checks' precision).
template <class T>
T exp_of(T x) {
  if constexpr (sizeof(T) == sizeof(float))
    return fast_exp(x);
  else
    return std::exp(x);
}

}  // namespace axon::kernels
