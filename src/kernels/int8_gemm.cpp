// int8 GEMM: AVX2 (vpmaddubsw + vpmaddwd) and AVX-512 VNNI (vpdpbusd) micro-kernels over 16-column blocks of the
// packed weights, sharing one float epilogue with the naive reference so that all three agree bit for bit.
#include "kernels/int8_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

#include "kernels/parallel.h"

namespace axon::kernels {
namespace {

constexpr int64_t kBlock = 16;  // columns per packed block
constexpr int kMaxRows = 4;     // rows per micro-kernel tile
constexpr int kMaxBlocks = 4;   // column blocks per micro-kernel tile

bool cpu_has_vnni() {
  return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}

std::atomic<bool>& use_vnni() {
  static std::atomic<bool> vnni = [] {
    const char* isa = std::getenv("AXON_INT8_ISA");
    return !(isa && std::string_view(isa) == "avx2") && cpu_has_vnni();
  }();
  return vnni;
}

// The epilogue of one output, the expression every path uses (fma keeps the compiler from contracting differently).
inline float finish(int32_t acc, int32_t zero, int32_t column_sum, float row_scale, float column_scale, float bias,
                    bool relu) {
  const float v = std::fma(static_cast<float>(acc - zero * column_sum), row_scale * column_scale, bias);
  return relu ? (v > 0.0f ? v : 0.0f) : v;  // as vmaxps(v, 0)
}

// One micro-kernel call: rows x (blocks * 16) outputs; every pointer is at the tile's first row and column.
struct Tile {
  const uint8_t* x;  // (rows, k4), row stride ldq
  int64_t ldq;
  const int8_t* w;  // the tile's first packed block; blocks k4 * 16 bytes apart
  int64_t k4;
  const float* row_scale;
  const int32_t* row_zero;
  const float* column_scale;
  const int32_t* column_sum;
  const float* bias;  // or null
  bool relu;
  int64_t columns;  // valid columns from the tile's first: < blocks * 16 only in the last tile
  float* y;
  int64_t ldy;
};

inline int32_t load4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The epilogue of 8 int32 sums of row r at columns c..c+8 of the tile (scalar when fewer than 8 are valid).
inline void finish8(const Tile& t, int r, int64_t c, __m256i acc) {
  float* y = t.y + r * t.ldy + c;
  const int64_t valid = t.columns - c;
  if (valid <= 0) return;
  if (valid < 8) {
    alignas(32) int32_t sums[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(sums), acc);
    for (int64_t j = 0; j < valid; ++j) {
      y[j] = finish(sums[j], t.row_zero[r], t.column_sum[c + j], t.row_scale[r], t.column_scale[c + j],
                    t.bias ? t.bias[c + j] : 0.0f, t.relu);
    }
    return;
  }
  const __m256i sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.column_sum + c));
  const __m256i corrected = _mm256_sub_epi32(acc, _mm256_mullo_epi32(_mm256_set1_epi32(t.row_zero[r]), sums));
  const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(t.row_scale[r]), _mm256_loadu_ps(t.column_scale + c));
  const __m256 bias = t.bias ? _mm256_loadu_ps(t.bias + c) : _mm256_setzero_ps();
  __m256 v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(corrected), scale, bias);
  if (t.relu) v = _mm256_max_ps(v, _mm256_setzero_ps());
  _mm256_storeu_ps(y, v);
}

// AVX2: per group of 4 k, broadcast each row's 4 bytes, vpmaddubsw against a 32-byte half block (8 columns x 4 k)
// into int16 pairs, vpmaddwd with ones into int32. Accumulators: rows * blocks * 2 ymm.
template <int Rows, int Blocks>
void tile_avx2(const Tile& t) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[Rows][Blocks][2];
  for (auto& row : acc)
    for (auto& block : row) block[0] = block[1] = _mm256_setzero_si256();
  for (int64_t g = 0; g < t.k4; g += 4) {
#pragma GCC unroll 4
    for (int r = 0; r < Rows; ++r) {
      const __m256i x = _mm256_set1_epi32(load4(t.x + r * t.ldq + g));
#pragma GCC unroll 4
      for (int b = 0; b < Blocks; ++b) {
        const int8_t* w = t.w + b * t.k4 * kBlock + g * kBlock;
        for (int h = 0; h < 2; ++h) {
          const __m256i wv = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + 32 * h));
          acc[r][b][h] = _mm256_add_epi32(acc[r][b][h], _mm256_madd_epi16(_mm256_maddubs_epi16(x, wv), ones));
        }
      }
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < Rows; ++r)
#pragma GCC unroll 4
    for (int b = 0; b < Blocks; ++b)
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) finish8(t, r, b * kBlock + 8 * h, acc[r][b][h]);
}

// finish8's epilogue for 16 columns in one zmm, with a mask where fewer are valid: the same operations on each
// output, so the same bits.
__attribute__((target("avx512f"))) inline void finish16(const Tile& t, int r, int64_t c, __m512i acc) {
  const int64_t valid = t.columns - c;
  if (valid <= 0) return;
  const auto mask = static_cast<__mmask16>(valid >= 16 ? 0xffff : (1u << valid) - 1);
  const __m512i sums = _mm512_maskz_loadu_epi32(mask, t.column_sum + c);
  const __m512i corrected = _mm512_sub_epi32(acc, _mm512_mullo_epi32(_mm512_set1_epi32(t.row_zero[r]), sums));
  const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(t.row_scale[r]), _mm512_maskz_loadu_ps(mask, t.column_scale + c));
  const __m512 bias = t.bias ? _mm512_maskz_loadu_ps(mask, t.bias + c) : _mm512_setzero_ps();
  // (The mask_ forms: GCC 12 warns on the undefined sources of the plain ones.)
  __m512 v = _mm512_fmadd_ps(_mm512_mask_cvtepi32_ps(_mm512_setzero_ps(), 0xffff, corrected), scale, bias);
  if (t.relu) v = _mm512_mask_max_ps(v, 0xffff, v, _mm512_setzero_ps());
  _mm512_mask_storeu_ps(t.y + r * t.ldy + c, mask, v);
}

// AVX-512 VNNI: per group of 4 k, vpdpbusd of each row's broadcast 4 bytes against a 64-byte block (16 columns x
// 4 k). Accumulators: rows * blocks zmm. Every loop over them is unrolled, the epilogue's too: with its loops left
// rolled, GCC 12 kept the accumulators as an array and copied each to another register and back at every step (32
// moves and a spill per 16 products in the 4 x 4 tile), about a quarter of the multiplier's rate.
template <int Rows, int Blocks>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) void tile_vnni(const Tile& t) {
  __m512i acc[Rows][Blocks];
  for (auto& row : acc)
    for (auto& block : row) block = _mm512_setzero_si512();
  for (int64_t g = 0; g < t.k4; g += 4) {
#pragma GCC unroll 4
    for (int r = 0; r < Rows; ++r) {
      const __m512i x = _mm512_set1_epi32(load4(t.x + r * t.ldq + g));
#pragma GCC unroll 4
      for (int b = 0; b < Blocks; ++b) {
        const __m512i wv = _mm512_load_si512(t.w + b * t.k4 * kBlock + g * kBlock);
        acc[r][b] = _mm512_dpbusd_epi32(acc[r][b], x, wv);
      }
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < Rows; ++r) {
#pragma GCC unroll 4
    for (int b = 0; b < Blocks; ++b) finish16(t, r, b * kBlock, acc[r][b]);
  }
}

// Micro-kernels by [rows - 1][blocks - 1].
using TileKernel = void (*)(const Tile&);
template <template <int, int> class Kernel, int... I>
constexpr std::array<TileKernel, kMaxRows * kMaxBlocks> kernel_table(std::integer_sequence<int, I...>) {
  return {&Kernel<I / kMaxBlocks + 1, I % kMaxBlocks + 1>::run...};
}
template <int Rows, int Blocks>
struct Avx2 {
  static void run(const Tile& t) { tile_avx2<Rows, Blocks>(t); }
};
template <int Rows, int Blocks>
struct Vnni {
  static void run(const Tile& t) { tile_vnni<Rows, Blocks>(t); }
};
const auto kAvx2Kernels = kernel_table<Avx2>(std::make_integer_sequence<int, kMaxRows * kMaxBlocks>{});
const auto kVnniKernels = kernel_table<Vnni>(std::make_integer_sequence<int, kMaxRows * kMaxBlocks>{});

}  // namespace

void quantize_weights(const float* w, int64_t k, int64_t n, int8_t* q, float* scale) {
  for (int64_t j = 0; j < n; ++j) {
    float max_abs = 0.0f;
    for (int64_t i = 0; i < k; ++i) max_abs = std::max(max_abs, std::abs(w[i * n + j]));
    scale[j] = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
    for (int64_t i = 0; i < k; ++i) {
      q[i * n + j] = static_cast<int8_t>(std::clamp(std::nearbyint(w[i * n + j] / scale[j]), -127.0f, 127.0f));
    }
  }
}

Int8Weights pack_int8_weights(const int8_t* q, const float* scale, int64_t k, int64_t n) {
  Int8Weights p;
  p.k = k, p.n = n, p.k4 = (k + 3) / 4 * 4;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  p.packed.assign(blocks * p.k4 * kBlock, 0);
  p.scale.assign(scale, scale + n);
  p.column_sums.assign(n, 0);
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      p.packed[(j / kBlock * p.k4 + i / 4 * 4) * kBlock + j % kBlock * 4 + i % 4] = q[i * n + j];
      p.column_sums[j] += q[i * n + j];
    }
  }
  return p;
}

void quantize_rows(const float* x, int64_t m, int64_t k, int64_t ldx, uint8_t* q, int64_t ldq, float* scale,
                   int32_t* zero) {
  parallel_for(m, 3 * k, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = x + r * ldx;
      uint8_t* qr = q + r * ldq;
      // The row's range [lo, hi], 0 included: four independent min and max chains.
      __m256 lo8[4], hi8[4];
      for (int u = 0; u < 4; ++u) lo8[u] = hi8[u] = _mm256_setzero_ps();
      int64_t i = 0;
      for (; i + 32 <= k; i += 32) {
        for (int u = 0; u < 4; ++u) {
          const __m256 v = _mm256_loadu_ps(xr + i + 8 * u);
          lo8[u] = _mm256_min_ps(lo8[u], v), hi8[u] = _mm256_max_ps(hi8[u], v);
        }
      }
      alignas(32) float lo_lanes[8], hi_lanes[8];
      _mm256_store_ps(lo_lanes, _mm256_min_ps(_mm256_min_ps(lo8[0], lo8[1]), _mm256_min_ps(lo8[2], lo8[3])));
      _mm256_store_ps(hi_lanes, _mm256_max_ps(_mm256_max_ps(hi8[0], hi8[1]), _mm256_max_ps(hi8[2], hi8[3])));
      float lo = *std::min_element(lo_lanes, lo_lanes + 8), hi = *std::max_element(hi_lanes, hi_lanes + 8);
      for (; i < k; ++i) lo = std::min(lo, xr[i]), hi = std::max(hi, xr[i]);

      scale[r] = hi > lo ? (hi - lo) / 127.0f : 1.0f;
      const float inv = 1.0f / scale[r];
      zero[r] = static_cast<int32_t>(std::clamp(std::nearbyint(-lo * inv), 0.0f, 127.0f));
      // q = clamp(rne(x * inv) + zero, 0, 127), 32 at a time: vcvtps2dq rounds half to even as nearbyint does; the
      // values are small, so packing to int16, adding zero, and packing to uint8 (saturating at 0) are exact; then the
      // cap at 127, and vpermd undoes the packs' lane interleaving.
      const __m256 inv8 = _mm256_set1_ps(inv);
      const __m256i zero16 = _mm256_set1_epi16(static_cast<int16_t>(zero[r])), top = _mm256_set1_epi8(127);
      const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
      for (i = 0; i + 32 <= k; i += 32) {
        __m256i v[4];
        for (int u = 0; u < 4; ++u) v[u] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xr + i + 8 * u), inv8));
        const __m256i w01 = _mm256_adds_epi16(_mm256_packs_epi32(v[0], v[1]), zero16);
        const __m256i w23 = _mm256_adds_epi16(_mm256_packs_epi32(v[2], v[3]), zero16);
        const __m256i bytes = _mm256_min_epu8(_mm256_packus_epi16(w01, w23), top);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(qr + i), _mm256_permutevar8x32_epi32(bytes, order));
      }
      for (; i < k; ++i) {
        qr[i] = static_cast<uint8_t>(std::clamp(static_cast<int32_t>(std::nearbyint(xr[i] * inv)) + zero[r], 0, 127));
      }
    }
  });
}

void int8_gemm(int64_t m, const uint8_t* xq, int64_t ldq, const float* row_scale, const int32_t* row_zero,
               const Int8Weights& w, const float* bias, bool relu, float* y, int64_t ldy) {
  if (m <= 0 || w.n <= 0) return;
  const bool vnni = use_vnni().load(std::memory_order_relaxed);
  const auto& kernels = vnni ? kVnniKernels : kAvx2Kernels;
  // Tiles of up to 4 rows x tile_blocks blocks: VNNI 4 x 4 (16 zmm accumulators); AVX2 4 x 1, and for m < 4 as many
  // blocks as keep 8 ymm accumulators (independent chains keep the batch-1 GEMV from being latency bound).
  const int64_t tile_blocks = vnni ? kMaxBlocks : std::max<int64_t>(1, kMaxRows / std::min<int64_t>(m, kMaxRows));
  const int64_t blocks = (w.n + kBlock - 1) / kBlock;
  const int64_t row_tiles = (m + kMaxRows - 1) / kMaxRows, column_tiles = (blocks + tile_blocks - 1) / tile_blocks;
  // Items column-tile major, so a thread's consecutive items share a weight panel. Cost: ~16 int8 MACs per element,
  // counting the rows a tile really has (a single row's GEMV, 784 x 256, is done sooner than the threads wake).
  const int64_t tile_cost = std::min<int64_t>(m, kMaxRows) * tile_blocks * kBlock * w.k4 / 16;
  parallel_for(row_tiles * column_tiles, tile_cost, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t r0 = item % row_tiles * kMaxRows, b0 = item / row_tiles * tile_blocks;
      const int64_t rows = std::min<int64_t>(kMaxRows, m - r0), tile = std::min(tile_blocks, blocks - b0);
      const int64_t c0 = b0 * kBlock;
      const Tile t{.x = xq + r0 * ldq,
                   .ldq = ldq,
                   .w = w.packed.data() + b0 * w.k4 * kBlock,
                   .k4 = w.k4,
                   .row_scale = row_scale + r0,
                   .row_zero = row_zero + r0,
                   .column_scale = w.scale.data() + c0,
                   .column_sum = w.column_sums.data() + c0,
                   .bias = bias ? bias + c0 : nullptr,
                   .relu = relu,
                   .columns = std::min(w.n - c0, tile * kBlock),
                   .y = y + r0 * ldy + c0,
                   .ldy = ldy};
      kernels[(rows - 1) * kMaxBlocks + (tile - 1)](t);
    }
  });
}

void int8_gemm_naive(int64_t m, const uint8_t* xq, int64_t ldq, const float* row_scale, const int32_t* row_zero,
                     const int8_t* wq, const float* w_scale, int64_t k, int64_t n, const float* bias, bool relu,
                     float* y, int64_t ldy) {
  for (int64_t j = 0; j < n; ++j) {
    int32_t column_sum = 0;
    for (int64_t i = 0; i < k; ++i) column_sum += wq[i * n + j];
    for (int64_t r = 0; r < m; ++r) {
      int32_t acc = 0;
      for (int64_t i = 0; i < k; ++i) acc += int32_t{xq[r * ldq + i]} * wq[i * n + j];
      y[r * ldy + j] = finish(acc, row_zero[r], column_sum, row_scale[r], w_scale[j], bias ? bias[j] : 0.0f, relu);
    }
  }
}

void int8_linear(const float* x, int64_t m, int64_t ldx, const Int8Weights& w, const float* bias, bool relu, float* y,
                 int64_t ldy) {
  thread_local std::vector<uint8_t> q;
  thread_local std::vector<float> scale;
  thread_local std::vector<int32_t> zero;
  if (static_cast<int64_t>(q.size()) < m * w.k4) q.resize(m * w.k4);
  if (static_cast<int64_t>(scale.size()) < m) scale.resize(m), zero.resize(m);
  quantize_rows(x, m, w.k, ldx, q.data(), w.k4, scale.data(), zero.data());
  int8_gemm(m, q.data(), w.k4, scale.data(), zero.data(), w, bias, relu, y, ldy);
}

bool set_int8_isa_for_testing(bool avx512) {
  if (avx512 && !cpu_has_vnni()) return false;
  use_vnni().store(avx512);
  return true;
}

}  // namespace axon::kernels
