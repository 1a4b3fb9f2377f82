#pragma once
// What the fused recurrent kernels (lstm.cpp, gru.cpp) share: the gate activations on
// fast_exp, the GEMM they run (OpenBLAS's, or the naive loops for the references), and
// the checks of a padding mask and a recurrent dropout mask.
#include <cstdint>
#include <vector>

#include "axon/tensor.h"
#include "kernels/fast_exp.h"
#include "kernels/gemm.h"

namespace axon::kernels {

template <class T>
T sigmoid_of(T v) {
  return T(1) / (T(1) + exp_of(-v));
}

// tanh through exp, about twice as fast as std::tanh (glibc's goes through expm1),
// within 1e-7 of it; 1 and -1 at the ends.
template <class T>
T tanh_of(T v) {
  return T(2) / (T(1) + exp_of(T(-2) * v)) - T(1);
}

// c = alpha op(a) op(b) + beta c, by OpenBLAS or by the naive loops.
template <class T>
using Gemm = void (*)(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*, int64_t);

template <class T>
Gemm<T> pick_gemm(bool naive) {
  return naive ? &gemm_naive<T> : &gemm<T>;
}

// The work of one unit's gates in one step, for parallel_for: a few exp, a few dozen flops.
constexpr int64_t kGateCost = 60;

// Whether step t of sequence b is real: mask (B, T) as float 0/1, or none.
inline bool real_step(const float* mask, int64_t time, int64_t b, int64_t t) { return !mask || mask[b * time + t] != 0; }

// The padding mask's data, checked against (B, T) of `sequence` (B, T, ...); null if none.
inline const float* step_mask(const char* op, const Tensor& mask, const Tensor& sequence) {
  if (!mask.defined()) return nullptr;
  if (mask.dtype() != DType::f32 || mask.shape() != Shape{sequence.dim(0), sequence.dim(1)})
    fail(op, ": the mask must be float32 (batch, time) = (", sequence.dim(0), ", ", sequence.dim(1), "), got ",
         mask.shape());
  return mask.data<float>();
}

// h as it meets the recurrent kernel: h itself, or h * keep (recurrent dropout) written
// into `buffer` (B * U).
template <class T>
const T* masked_state(const T* h, const Tensor& dropped, std::vector<T>& buffer) {
  if (!dropped.defined()) return h;
  const T* keep = dropped.data<T>();
  buffer.resize(static_cast<size_t>(dropped.numel()));
  for (size_t i = 0; i < buffer.size(); ++i) buffer[i] = h[i] * keep[i];
  return buffer.data();
}

inline void check_dropped(const char* op, const Tensor& dropped, const Tensor& h0) {
  if (dropped.defined() && (dropped.shape() != h0.shape() || dropped.dtype() != h0.dtype()))
    fail(op, ": the recurrent dropout mask must be ", h0.shape(), " like the states, got ", dropped.shape());
}

}  // namespace axon::kernels
