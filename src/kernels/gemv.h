#pragma once
// One row through a dense layer, for batch-1 inference: y = x @ w + bias, then max(y, 0)
// when relu. x: (k,), w: (k, n) row-major (Dense's kernel as stored), bias: (n,) or null,
// y: (n,). Streams w once, 64 columns at a time, the sums in registers; the column
// blocks are split over the pool's threads when w is large enough that each thread
// reading its share from its own cache beats waking it (measured: 784 x 256).
#include <cstdint>

namespace axon::kernels {

void gemv_bias_act(const float* x, const float* w, int64_t k, int64_t n, const float* bias, bool relu, float* y);

}  // namespace axon::kernels
