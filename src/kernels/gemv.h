#pragma once
// One row through a dense layer, for batch-1 inference: y = x @ w + bias, then max(y, 0)
// when relu. x: (k,), w: (k, n) row-major (Dense's kernel as stored), bias: (n,) or null,
// y: (n,). Streams w once, the sums in registers: with AVX-512 up to 256 columns at a
// time (a row of such a block is one contiguous run), else 64. The columns are split over
// the pool's threads when w is large enough that each thread reading its share from its
// own cache beats waking it (measured: 784 x 256). Each column's sum is taken in the same
// order on every path.
#include <cstdint>

namespace axon::kernels {

void gemv_bias_act(const float* x, const float* w, int64_t k, int64_t n, const float* bias, bool relu, float* y);

// A few rows (3 to kFewRows: a small serving batch), x (m, k), y (m, n), where the CPU
// has AVX-512: four rows at a time share each load of w, and w is not packed, which at
// this size costs OpenBLAS more than the product (784 x 256, one thread: 8 rows in 26 us
// where OpenBLAS took 49, 16 in 52 where it took 68; at 2 rows OpenBLAS's own small
// kernel wins, 11 us to 15). Each sum in gemv_bias_act's order, so a row's output does
// not depend on its batch. False (nothing done) elsewhere.
constexpr int64_t kFewRows = 16;
bool few_rows_bias_act(int64_t m, const float* x, const float* w, int64_t k, int64_t n, const float* bias, bool relu,
                       float* y);

}  // namespace axon::kernels
