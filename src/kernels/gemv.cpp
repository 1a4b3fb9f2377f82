#include "kernels/gemv.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu_features.h"
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

// R rows (R <= 4), columns [begin, begin + 64), with AVX-512: each weight vector is
// loaded once for all R rows, 4R zmm of sums. Each sum is taken in full_block's order.
template <int R>
__attribute__((target("avx512f"))) void rows_block(const float* x, const float* w, int64_t k, int64_t n,
                                                   const float* bias, bool relu, float* y, int64_t begin) {
  __m512 sum[R][4];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < 4; ++v) sum[r][v] = bias ? _mm512_loadu_ps(bias + begin + 16 * v) : _mm512_setzero_ps();
  for (int64_t i = 0; i < k; ++i) {
    __m512 xi[R];
    for (int r = 0; r < R; ++r) xi[r] = _mm512_set1_ps(x[r * k + i]);
    const float* row = w + i * n + begin;
    for (int v = 0; v < 4; ++v) {
      const __m512 wv = _mm512_loadu_ps(row + 16 * v);
      for (int r = 0; r < R; ++r) sum[r][v] = _mm512_fmadd_ps(xi[r], wv, sum[r][v]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < 4; ++v)
      _mm512_storeu_ps(y + r * n + begin + 16 * v,  // (mask_max: GCC 12 warns on max_ps's undefined source)
                       relu ? _mm512_mask_max_ps(sum[r][v], 0xffff, sum[r][v], _mm512_setzero_ps()) : sum[r][v]);
}

// Columns [begin, begin + 16 V) with AVX-512, V <= 16 vectors of sums: each row's 64 V
// bytes are one contiguous run, so a 784 x 256 kernel taken 256 columns at a time streams
// as one block (the prefetchers follow one stream where four interleaved ones held them
// back: 8.1 us against 11.2 in blocks of 64 columns, both on weights misaligned by a test
// harness; on 64-byte-aligned tensors the block takes 5.0 us on one core). Each sum in
// full_block's order.
template <int V>
__attribute__((target("avx512f"))) void wide_block(const float* x, const float* w, int64_t k, int64_t n,
                                                   const float* bias, bool relu, float* y, int64_t begin) {
  __m512 sum[V];
#pragma GCC unroll 16
  for (int v = 0; v < V; ++v) sum[v] = bias ? _mm512_loadu_ps(bias + begin + 16 * v) : _mm512_setzero_ps();
  for (int64_t i = 0; i < k; ++i) {
    const __m512 xi = _mm512_set1_ps(x[i]);
    const float* row = w + i * n + begin;
#pragma GCC unroll 16
    for (int v = 0; v < V; ++v) sum[v] = _mm512_fmadd_ps(xi, _mm512_loadu_ps(row + 16 * v), sum[v]);
  }
#pragma GCC unroll 16
  for (int v = 0; v < V; ++v)
    _mm512_storeu_ps(y + begin + 16 * v,
                     relu ? _mm512_mask_max_ps(sum[v], 0xffff, sum[v], _mm512_setzero_ps()) : sum[v]);
}

// Columns [begin, end), fewer than 16, with AVX-512: one masked vector of sums (a
// column at a time, each sum one chain of k dependent FMAs, took about 1 us for the
// 128 x 10 output layer, a ninth of a batch-1 predict). Each sum in full_block's order.
__attribute__((target("avx512f"))) void tail_block(const float* x, const float* w, int64_t k, int64_t n,
                                                   const float* bias, bool relu, float* y, int64_t begin,
                                                   int64_t end) {
  const auto mask = static_cast<__mmask16>((1u << (end - begin)) - 1);
  __m512 sum = bias ? _mm512_maskz_loadu_ps(mask, bias + begin) : _mm512_setzero_ps();
  for (int64_t i = 0; i < k; ++i)
    sum = _mm512_fmadd_ps(_mm512_set1_ps(x[i]), _mm512_maskz_loadu_ps(mask, w + i * n + begin), sum);
  if (relu) sum = _mm512_mask_max_ps(sum, 0xffff, sum, _mm512_setzero_ps());
  _mm512_mask_storeu_ps(y + begin, mask, sum);
}

// Columns [begin, end), begin a multiple of 16: the widest blocks that fit, then the
// last few columns in one masked block.
void wide_columns(const float* x, const float* w, int64_t k, int64_t n, const float* bias, bool relu, float* y,
                  int64_t begin, int64_t end) {
  for (int64_t vectors; (vectors = (end - begin) / 16) > 0;) {
    const int64_t v = vectors >= 16 ? 16 : vectors >= 8 ? 8 : vectors >= 4 ? 4 : vectors >= 2 ? 2 : 1;
    if (v == 16) wide_block<16>(x, w, k, n, bias, relu, y, begin);
    if (v == 8) wide_block<8>(x, w, k, n, bias, relu, y, begin);
    if (v == 4) wide_block<4>(x, w, k, n, bias, relu, y, begin);
    if (v == 2) wide_block<2>(x, w, k, n, bias, relu, y, begin);
    if (v == 1) wide_block<1>(x, w, k, n, bias, relu, y, begin);
    begin += 16 * v;
  }
  if (begin < end) tail_block(x, w, k, n, bias, relu, y, begin, end);
}

template <int R>
void rows_through(const float* x, const float* w, int64_t k, int64_t n, const float* bias, bool relu, float* y) {
  const int64_t full = n / kColumns;
  parallel_for(full, k * kColumns * R / 4, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) rows_block<R>(x, w, k, n, bias, relu, y, b * kColumns);
  });
  for (int r = 0; r < R; ++r) wide_columns(x + r * k, w, k, n, bias, relu, y + r * n, full * kColumns, n);
}

}  // namespace

bool few_rows_bias_act(int64_t m, const float* x, const float* w, int64_t k, int64_t n, const float* bias, bool relu,
                       float* y) {
  if (!has_avx512f() || m < 3 || m > kFewRows) return false;
  int64_t r = 0;
  for (; m - r >= 4; r += 4) rows_through<4>(x + r * k, w, k, n, bias, relu, y + r * n);
  if (m - r == 3) rows_through<3>(x + r * k, w, k, n, bias, relu, y + r * n);
  if (m - r == 2) rows_through<2>(x + r * k, w, k, n, bias, relu, y + r * n);
  if (m - r == 1) gemv_bias_act(x + r * k, w, k, n, bias, relu, y + r * n);
  return true;
}

void gemv_bias_act(const float* x, const float* w, int64_t k, int64_t n, const float* bias, bool relu, float* y) {
  if (has_avx512f()) {  // one contiguous share of the columns per thread, in the widest blocks
    const int64_t vectors = (n + 15) / 16;
    const int64_t threads =
        k * n / 4 < kParallelThreshold || ThreadPool::in_task() ? 1 : std::min<int64_t>(num_threads(), vectors);
    ThreadPool::instance().run(threads, [&](int64_t t) {
      FlushDenormals flush;
      wide_columns(x, w, k, n, bias, relu, y, 16 * (vectors * t / threads),
                   std::min(n, 16 * (vectors * (t + 1) / threads)));
    });
    return;
  }
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
