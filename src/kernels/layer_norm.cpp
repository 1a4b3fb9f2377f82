#include "kernels/layer_norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/lane_sum.h"
#include "kernels/parallel.h"

namespace axon::kernels {

LayerNormForward layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double epsilon) {
  if (x.rank() < 1 || gamma.shape() != Shape{x.dim(-1)} || beta.shape() != gamma.shape())
    fail("layer_norm: gamma and beta must be (", x.rank() < 1 ? 0 : x.dim(-1), ",) for input ", x.shape(), ", got ",
         gamma.shape(), " and ", beta.shape());
  if (gamma.dtype() != x.dtype() || beta.dtype() != x.dtype()) fail("layer_norm: every input must be of one dtype");
  const int64_t features = x.dim(-1), rows = features == 0 ? 0 : x.numel() / features;
  LayerNormForward out{Tensor::empty(x.shape(), x.dtype()), Tensor::empty(Shape{rows}, DType::f64),
                       Tensor::empty(Shape{rows}, DType::f64)};
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T *px = x.data<T>(), *pg = gamma.data<T>(), *pb = beta.data<T>();
    T* py = out.y.data<T>();
    double *mean = out.mean.data<double>(), *inv = out.inv.data<double>();
    parallel_for(rows, 3 * features, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* row = px + r * features;
        const T m = lane_sum<T>(features, [&](int64_t f) { return row[f]; }) / static_cast<T>(features);
        const T variance =
            lane_sum<T>(features, [&](int64_t f) { return (row[f] - m) * (row[f] - m); }) / static_cast<T>(features);
        const T s = static_cast<T>(1.0 / std::sqrt(static_cast<double>(variance) + epsilon));
        mean[r] = m;
        inv[r] = s;
        T* y = py + r * features;
        for (int64_t f = 0; f < features; ++f) y[f] = (row[f] - m) * s * pg[f] + pb[f];
      }
    });
  });
  return out;
}

// With n = (x - mean) * inv and dn = dy * gamma:
//   dx = inv * (dn - mean(dn) - n * mean(dn * n)),  dgamma = sum_rows dy * n,  dbeta = sum_rows dy.
LayerNormGradients layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                       const LayerNormForward& saved) {
  const int64_t features = x.dim(-1), rows = saved.mean.numel();
  LayerNormGradients grads{Tensor::empty(x.shape(), x.dtype()), Tensor::zeros(gamma.shape(), gamma.dtype()),
                           Tensor::zeros(gamma.shape(), gamma.dtype())};
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T *px = x.data<T>(), *pdy = dy.data<T>(), *pg = gamma.data<T>();
    const double *mean = saved.mean.data<double>(), *inv = saved.inv.data<double>();
    T* pdx = grads.x.data<T>();
    // dgamma and dbeta: each chunk of rows sums into its own partials, added after.
    const bool parallel = num_threads() > 1 && rows * features * 4 >= kParallelThreshold && !ThreadPool::in_task();
    const int64_t chunks = parallel ? std::min<int64_t>(rows, int64_t{num_threads()} * kChunksPerThread) : 1;
    std::vector<std::vector<T>> partial_gamma(static_cast<size_t>(chunks)), partial_beta(partial_gamma.size());
    auto chunk = [&](int64_t c) {
      FlushDenormals flush;
      std::vector<T>& dg = partial_gamma[static_cast<size_t>(c)];
      std::vector<T>& db = partial_beta[static_cast<size_t>(c)];
      dg.assign(static_cast<size_t>(features), T(0));
      db.assign(static_cast<size_t>(features), T(0));
      std::vector<T> normalized(static_cast<size_t>(features)), scaled(static_cast<size_t>(features));
      for (int64_t r = rows * c / chunks; r < rows * (c + 1) / chunks; ++r) {
        const T *row = px + r * features, *g = pdy + r * features;
        const T m = static_cast<T>(mean[r]), s = static_cast<T>(inv[r]);
        T *n = normalized.data(), *dn = scaled.data();
        for (int64_t f = 0; f < features; ++f) {
          n[f] = (row[f] - m) * s;
          dn[f] = g[f] * pg[f];
          dg[f] += g[f] * n[f];
          db[f] += g[f];
        }
        const T mean_dn = lane_sum<T>(features, [&](int64_t f) { return dn[f]; }) / static_cast<T>(features);
        const T mean_dn_n = lane_sum<T>(features, [&](int64_t f) { return dn[f] * n[f]; }) / static_cast<T>(features);
        T* dx = pdx + r * features;
        for (int64_t f = 0; f < features; ++f) dx[f] = s * (dn[f] - mean_dn - n[f] * mean_dn_n);
      }
    };
    if (parallel)
      ThreadPool::instance().run(chunks, [&](int64_t c) { chunk(c); });
    else
      chunk(0);
    T *dgamma = grads.gamma.data<T>(), *dbeta = grads.beta.data<T>();
    for (int64_t c = 0; c < chunks; ++c)
      for (int64_t f = 0; f < features; ++f) {
        dgamma[f] += partial_gamma[static_cast<size_t>(c)][static_cast<size_t>(f)];
        dbeta[f] += partial_beta[static_cast<size_t>(c)][static_cast<size_t>(f)];
      }
  });
  return grads;
}

}  // namespace axon::kernels
