#pragma once
// GEMM: c = alpha * op(a) @ op(b) + beta * c, row-major, op(x) = x or x^T.
// op(a): (m, k), op(b): (k, n), c: (m, n); lda/ldb/ldc are the row strides as stored.
#include <cstdint>

#include "axon/tensor.h"

namespace axon::kernels {

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc);  // OpenBLAS

// A dense layer's forward pass: c (m, n) = a (m, k) @ b (k, n) + bias (n,), then max(c, 0)
// when relu; all row-major and contiguous, bias may be null. The bias and relu are applied
// to each block of c by the thread that computed it; one float row is a GEMV, a few
// float rows few_rows_bias_act (gemv.h) where it applies.
template <class T>
void gemm_bias_act(int64_t m, int64_t n, int64_t k, const T* a, const T* b, const T* bias, bool relu, T* c);

template <class T>
void gemm_naive(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                const T* b, int64_t ldb, T beta, T* c, int64_t ldc);  // reference triple loop

// Tensor form: op(a): (..., m, k), op(b): (..., k, n) -> (..., m, n), a product per
// index of the leading axes (which must be equal), or b 2-D and shared by all. op
// transposes the last two axes. Shapes are checked; `op` names the caller in errors.
Tensor matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const char* op = "matmul");

}  // namespace axon::kernels
