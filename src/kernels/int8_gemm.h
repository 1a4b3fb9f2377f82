#pragma once
// int8 GEMM for quantized inference (Dense and Conv2D): y = dequant(xq @ wq) + bias, exact int32 accumulation.
//   Weights w: (k, n), row-major (Dense kernel: in x out), quantized per output column j, symmetric:
//     scale_j = max_i |w[i][j]| / 127 (1 for an all-zero column), wq = clamp(rne(w / scale_j), -127, 127).
//   Activations x: (m, k), quantized per row, asymmetric unsigned 7-bit over [lo, hi] = [min(min x, 0), max(max x, 0)]:
//     scale_r = (hi - lo) / 127 (1 for an all-zero row), inv_r = 1 / scale_r,
//     zero_r = clamp(rne(-lo * inv_r), 0, 127), xq = clamp(rne(x * inv_r) + zero_r, 0, 127).
//   Output: y[r][j] = fma(float(sum_i xq[r][i] * wq[i][j] - zero_r * colsum_j), scale_r * scale_j, bias_j),
//     then max(y, 0) when relu; colsum_j = sum_i wq[i][j], bias_j = 0 without bias. rne: round half to even.
// 7-bit activations keep AVX2's vpmaddubsw (u8 x s8 pairs summed into saturating int16) exact: 2 * 127 * 127 < 32767,
// so the AVX2 path, the AVX-512 VNNI path (vpdpbusd) and the naive reference agree bit for bit. The int32 sums are
// exact for k <= 66000 (2 * 127 * 127 * k < 2^31). Inputs must be finite.
// The path is AVX-512 VNNI when the CPU has it, unless the environment variable AXON_INT8_ISA=avx2 (read once).
#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

namespace axon::kernels {

// Allocates on 64-byte boundaries: one packed weight group is one zmm (or two ymm) load.
template <class T>
struct Aligned64Allocator {
  using value_type = T;
  Aligned64Allocator() = default;
  template <class U>
  Aligned64Allocator(const Aligned64Allocator<U>&) {}
  T* allocate(std::size_t count) { return static_cast<T*>(::operator new (count * sizeof(T), std::align_val_t{64})); }
  void deallocate(T* p, std::size_t) { ::operator delete (p, std::align_val_t{64}); }
  bool operator==(const Aligned64Allocator&) const { return true; }
};

// Quantized weights packed for the kernels, built once per layer.
struct Int8Weights {
  int64_t k = 0, n = 0, k4 = 0;  // k4: k rounded up to a multiple of 4
  // (ceil(n / 16) column blocks, k4 / 4 groups, 16 columns, 4 consecutive k): 64 bytes per (block, group);
  // columns past n and rows past k are 0.
  std::vector<int8_t, Aligned64Allocator<int8_t>> packed;
  std::vector<float> scale;          // (n,)
  std::vector<int32_t> column_sums;  // (n,) sum_i wq[i][j]
};

// w: (k, n) -> q: (k, n), scale: (n,), as above.
void quantize_weights(const float* w, int64_t k, int64_t n, int8_t* q, float* scale);
// From quantized values (as a model file keeps them): q: (k, n), scale: (n,).
Int8Weights pack_int8_weights(const int8_t* q, const float* scale, int64_t k, int64_t n);

// x: (m, k) with row stride ldx -> q: (m, k) with row stride ldq, scale, zero: (m,). Writes only the first k bytes
// of each row of q.
void quantize_rows(const float* x, int64_t m, int64_t k, int64_t ldx, uint8_t* q, int64_t ldq, float* scale,
                   int32_t* zero);

// y: (m, n) with row stride ldy from quantized rows xq: (m, k) with row stride ldq >= w.k4, values 0..127, and their
// row_scale, row_zero: (m,). Each row is read up to byte k4; bytes k..k4 may hold anything (they meet zero weights).
// bias: (n,) or null.
void int8_gemm(int64_t m, const uint8_t* xq, int64_t ldq, const float* row_scale, const int32_t* row_zero,
               const Int8Weights& w, const float* bias, bool relu, float* y, int64_t ldy);
// The reference: plain loops over unpacked wq: (k, n) and w_scale: (n,); ldq >= k.
void int8_gemm_naive(int64_t m, const uint8_t* xq, int64_t ldq, const float* row_scale, const int32_t* row_zero,
                     const int8_t* wq, const float* w_scale, int64_t k, int64_t n, const float* bias, bool relu,
                     float* y, int64_t ldy);

// quantize_rows then int8_gemm: x: (m, w.k) with row stride ldx -> y: (m, w.n) with row stride ldy. The quantized
// rows live in a per-thread scratch buffer that only grows.
void int8_linear(const float* x, int64_t m, int64_t ldx, const Int8Weights& w, const float* bias, bool relu, float* y,
                 int64_t ldy);

// Test hook: selects the AVX-512 VNNI path (true) or the AVX2 path (false) for later calls. Returns whether the
// requested path is now in use (false when asking for VNNI on a CPU without it).
bool set_int8_isa_for_testing(bool avx512);

}  // namespace axon::kernels
