#include "kernels/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <memory>
#include <type_traits>

#include "axon/threads.h"
#include "kernels/gemv.h"
#include "kernels/parallel.h"
#include "tensor/block_cache.h"

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
// One block per thread: each block packs the whole of the operand it does not split, so
// more blocks pack it more often. Measured on the Fashion MLP (2 threads): one block per
// thread 0.39 s/epoch against 0.41 for two and 0.48 for three; beside a busy process
// 0.70-0.72 against 0.73 for two.
constexpr int64_t kBlocksPerThread = 1;

// c = alpha * op(a) @ op(b) + beta * c on one thread per block: a large product is cut
// into blocks of rows of c (or of columns, when c is wider than tall), which the pool's
// threads claim as they come free. finish(row, rows, column, columns) then runs on each
// block of c, on the thread that computed it, while the block is in its cache.
template <class T, class Finish>
void blocked_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                  const T* b, int64_t ldb, T beta, T* c, int64_t ldc, Finish&& finish) {
  if (m == 0 || n == 0) return;
  const int threads = num_threads();
  const bool by_rows = m >= n;
  const int64_t extent = by_rows ? m : n;
  const int64_t blocks = std::min({extent / kMinBlock, m * n * k / kMinBlockWork, int64_t{threads} * kBlocksPerThread});
  if (threads <= 1 || blocks < 2 || ThreadPool::in_task()) {
    blas_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    finish(0, m, 0, n);
    return;
  }
  ThreadPool::instance().run(blocks, [&](int64_t block) {
    const int64_t begin = extent * block / blocks, size = extent * (block + 1) / blocks - begin;
    FlushDenormals flush;
    if (by_rows) {  // rows [begin, begin + size) of op(a) and c
      blas_gemm(trans_a, trans_b, size, n, k, alpha, trans_a ? a + begin : a + begin * lda, lda, b, ldb, beta,
                c + begin * ldc, ldc);
      finish(begin, size, 0, n);
    } else {  // columns of op(b) and c
      blas_gemm(trans_a, trans_b, m, size, k, alpha, a, lda, trans_b ? b + begin * ldb : b + begin, ldb, beta,
                c + begin, ldc);
      finish(0, m, begin, size);
    }
  });
}

// A deep product (k >= 512) over a short c (at most 256 rows), as a dense layer's
// forward pass on a batch: cut by rows or columns, every thread packs all of its shared
// operand (the 784x256 kernel of the Fashion MLP's first layer is 800 KB). Cut in depth
// instead, thread t reads only rows [t k/2, (t+1) k/2) of b, the rows its share of the
// gradient and the optimizer step wrote (the pool's home ranges keep them on one core).
// Two fixed halves, c = a[:, :k/2] b[:k/2] + a[:, k/2:] b[k/2:], at any thread count
// (more threads cut each half by columns), so the sums do not depend on it.
constexpr int64_t kDeep = 512, kShortRows = 256;

bool deep_and_short(int64_t m, int64_t n, int64_t k) {
  return k >= kDeep && m >= kMinBlock && m <= kShortRows && m * n * k >= 2 * kMinBlockWork;
}

// c = a @ b in two halves of depth; then finish(row, rows, 0, n, second half's product)
// in blocks of rows.
template <class T, class Finish>
void deep_gemm(int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c, Finish&& finish) {
  const std::shared_ptr<T> memory = detail::allocate_scratch<T>(m * n);
  T* const second = memory.get();  // reused from step to step
  const int64_t half = k / 2, columns = std::max<int64_t>(1, std::min<int64_t>(num_threads() / 2, n / kMinBlock));
  ThreadPool::instance().run(2 * columns, [&](int64_t chunk) {
    const int64_t part = chunk / columns, block = chunk % columns;
    const int64_t first = n * block / columns, width = n * (block + 1) / columns - first;
    const int64_t from = part == 0 ? 0 : half, depth = part == 0 ? half : k - half;
    FlushDenormals flush;
    blas_gemm(false, false, m, width, depth, T(1), a + from, k, b + from * n + first, n, T(0),
              (part == 0 ? c : second) + first, n);
  });
  parallel_for(m, n, [&](int64_t begin, int64_t end) { finish(begin, end - begin, 0, n, second); });
}

}  // namespace

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc) {
  blocked_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
               [](int64_t, int64_t, int64_t, int64_t) {});
}

template <class T>
void gemm_bias_act(int64_t m, int64_t n, int64_t k, const T* a, const T* b, const T* bias, bool relu, T* c) {
  if constexpr (std::is_same_v<T, float>)
    if (k > 0) {
      if (m == 1) return gemv_bias_act(a, b, k, n, bias, relu, c);
      if (few_rows_bias_act(m, a, b, k, n, bias, relu, c)) return;
    }
  // Rows [row, row + rows) x columns [column, column + columns) of c: plus `second`'s
  // (the other half of a deep product) where given, plus the bias, then the relu.
  auto finish = [&](int64_t row, int64_t rows, int64_t column, int64_t columns, const T* second = nullptr) {
    if (!bias && !relu && !second) return;
    for (int64_t i = row; i < row + rows; ++i) {
      T* y = c + i * n;
      const T* z = second ? second + i * n : nullptr;
      for (int64_t j = column; j < column + columns; ++j) {
        T v = y[j];
        if (z) v += z[j];
        if (bias) v += bias[j];
        y[j] = relu && v < T(0) ? T(0) : v;
      }
    }
  };
  if (k == 0) {  // OpenBLAS is not asked for an empty sum
    std::fill(c, c + m * n, T(0));
    return finish(0, m, 0, n);
  }
  if (deep_and_short(m, n, k)) return deep_gemm(m, n, k, a, b, c, finish);
  blocked_gemm(false, false, m, n, k, T(1), a, k, b, n, T(0), c, n, finish);
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);
template void gemm_bias_act<float>(int64_t, int64_t, int64_t, const float*, const float*, const float*, bool, float*);
template void gemm_bias_act<double>(int64_t, int64_t, int64_t, const double*, const double*, const double*, bool,
                                    double*);

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
  if (a.rank() < 2 || b.rank() < 2 || (b.rank() != 2 && b.rank() != a.rank()))
    fail(op, ": expects (..., m, k) x (..., k, n) or (..., m, k) x (k, n), got ", a.shape(), " x ", b.shape());
  if (a.dtype() != b.dtype()) fail(op, ": dtypes differ (", dtype_name(a.dtype()), " x ", dtype_name(b.dtype()), ")");
  const int64_t ar = a.dim(-2), ac = a.dim(-1), br = b.dim(-2), bc = b.dim(-1);
  const int64_t m = trans_a ? ac : ar, k = trans_a ? ar : ac, kb = trans_b ? bc : br, n = trans_b ? br : bc;
  std::vector<int64_t> dims(a.shape().dims().begin(), a.shape().dims().end() - 2);
  const bool shared_b = b.rank() == 2 && a.rank() > 2;
  if (b.rank() == a.rank() && !std::equal(dims.begin(), dims.end(), b.shape().dims().begin()))
    fail(op, ": leading axes differ: ", a.shape(), " x ", b.shape());
  if (k != kb)
    fail(op, ": ", a.shape(), trans_a ? "^T" : "", " x ", b.shape(), trans_b ? "^T" : "", ": inner dimensions differ");
  int64_t batch = 1;
  for (int64_t d : dims) batch *= d;
  dims.push_back(m);
  dims.push_back(n);
  if (k == 0) return Tensor::zeros(Shape(dims), a.dtype());
  Tensor c = Tensor::empty(Shape(dims), a.dtype());
  dispatch(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T *pa = a.data<T>(), *pb = b.data<T>();
    T* pc = c.data<T>();
    if (shared_b && !trans_a) {  // every batch entry against one b: one GEMM of all rows
      gemm<T>(false, trans_b, batch * m, n, k, T(1), pa, ac, pb, bc, T(0), pc, n);
      return;
    }
    auto product = [&](int64_t i) {
      gemm<T>(trans_a, trans_b, m, n, k, T(1), pa + i * ar * ac, ac, shared_b ? pb : pb + i * br * bc, bc, T(0),
              pc + i * m * n, n);
    };
    if (batch == 1) return product(0);  // GEMM threads itself
    parallel_for(batch, m * n * k, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) product(i);
    });
  });
  return c;
}

}  // namespace axon::kernels
