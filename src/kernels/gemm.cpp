#include "kernels/gemm.h"

#include <cblas.h>

#include <algorithm>

#include "axon/threads.h"
#include "kernels/parallel.h"

namespace axon::kernels {

namespace {

void blas_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
               const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

void blas_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
               const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

constexpr int64_t kMinBlock = 32;           // rows or columns of c per block, at least
constexpr int64_t kMinBlockWork = 1 << 19;  // multiply-adds per block, at least
constexpr int64_t kBlocksPerThread = 2;     // measured: 1 to 4 within 10 % quiet and busy (MLP)

}  // namespace

// OpenBLAS runs on one thread; a large product is cut into blocks of rows of c (or of
// columns, when c is wider than tall), which the pool's threads claim as they come free.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  const int threads = num_threads();
  const bool by_rows = m >= n;
  const int64_t extent = by_rows ? m : n;
  const int64_t blocks = std::min({extent / kMinBlock, m * n * k / kMinBlockWork, int64_t{threads} * kBlocksPerThread});
  if (threads <= 1 || blocks < 2 || ThreadPool::in_task()) {
    blas_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  ThreadPool::instance().run(blocks, [&](int64_t block) {
    const int64_t begin = extent * block / blocks, size = extent * (block + 1) / blocks - begin;
    FlushDenormals flush;
    if (by_rows)  // rows [begin, begin + size) of op(a) and c
      blas_gemm(trans_a, trans_b, size, n, k, alpha, trans_a ? a + begin : a + begin * lda, lda, b, ldb, beta,
                c + begin * ldc, ldc);
    else  // columns of op(b) and c
      blas_gemm(trans_a, trans_b, m, size, k, alpha, a, lda, trans_b ? b + begin * ldb : b + begin, ldb, beta,
                c + begin, ldc);
  });
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);

template <class T>
void gemm_naive(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p) {
        const T av = trans_a ? a[p * lda + i] : a[i * lda + p];
        const T bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        acc += static_cast<double>(av) * static_cast<double>(bv);
      }
      T& out = c[i * ldc + j];
      out = static_cast<T>(alpha * acc + (beta == T(0) ? T(0) : beta * out));
    }
  }
}

template void gemm_naive<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                                int64_t, float, float*, int64_t);
template void gemm_naive<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                                 int64_t, double, double*, int64_t);

Tensor matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const char* op) {
  if (a.rank() != 2 || b.rank() != 2) fail(op, ": expects 2-D operands, got ", a.shape(), " x ", b.shape());
  if (a.dtype() != b.dtype()) fail(op, ": dtypes differ (", dtype_name(a.dtype()), " x ", dtype_name(b.dtype()), ")");
  const int64_t m = trans_a ? a.dim(1) : a.dim(0), k = trans_a ? a.dim(0) : a.dim(1);
  const int64_t kb = trans_b ? b.dim(1) : b.dim(0), n = trans_b ? b.dim(0) : b.dim(1);
  if (k != kb)
    fail(op, ": ", a.shape(), trans_a ? "^T" : "", " x ", b.shape(), trans_b ? "^T" : "", ": inner dimensions differ");
  if (k == 0) return Tensor::zeros(Shape{m, n}, a.dtype());
  Tensor c = Tensor::empty(Shape{m, n}, a.dtype());
  dispatch(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    gemm<T>(trans_a, trans_b, m, n, k, T(1), a.data<T>(), a.dim(1), b.data<T>(), b.dim(1), T(0), c.data<T>(), n);
  });
  return c;
}

}  // namespace axon::kernels
