#include "kernels/gemv.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/parallel.h"

namespace axon::kernels {

namespace {

constexpr int64_t kColumns = 64;  // per block: 8 ymm of sums

// Columns [begin, begin + 64) of y.
void full_block(const float* x, const float* w, int64_t k, int64_t n, const float* bias, bool relu, float* y,
                int64_t begin) {
  __m256 sum[8];
  for (int v = 0; v < 8; ++v) sum[v] = bias ? _mm256_loadu_ps(bias + begin + 8 * v) : _mm256_setzero_ps();
  for (int64_t i = 0; i < k; ++i) {
    const __m256 xi = _mm256_broadcast_ss(x + i);
    const float* row = w + i * n + begin;
    for (int v = 0; v < 8; ++v) sum[v] = _mm256_fmadd_ps(xi, _mm256_loadu_ps(row + 8 * v), sum[v]);
  }
  for (int v = 0; v < 8; ++v)
    _mm256_storeu_ps(y + begin + 8 * v, relu ? _mm256_max_ps(sum[v], _mm256_setzero_ps()) : sum[v]);
}

// Columns [begin, end), fewer than 64: the same sums in the same order, one column at a time.
void partial_block(const float* x, const float* w, int64_t k, int64_t n, const float* bias, bool relu, float* y,
                   int64_t begin, int64_t end) {
  for (int64_t j = begin; j < end; ++j) {
    float sum = bias ? bias[j] : 0.0f;
    for (int64_t i = 0; i < k; ++i) sum = std::fma(x[i], w[i * n + j], sum);
    y[j] = relu ? std::max(sum, 0.0f) : sum;
  }
}

}  // namespace

void gemv_bias_act(const float* x, const float* w, int64_t k, int64_t n, const float* bias, bool relu, float* y) {
  const int64_t blocks = (n + kColumns - 1) / kColumns;
  parallel_for(blocks, k * kColumns / 4, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) {
      const int64_t begin = b * kColumns, end = std::min(n, begin + kColumns);
      if (end - begin == kColumns)
        full_block(x, w, k, n, bias, relu, y, begin);
      else
        partial_block(x, w, k, n, bias, relu, y, begin, end);
    }
  });
}

}  // namespace axon::kernels
