#include "kernels/layer_norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

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
        double total = 0, squares = 0;
        for (int64_t f = 0; f < features; ++f) total += row[f];
        const double m = total / static_cast<double>(features);
        for (int64_t f = 0; f < features; ++f) squares += (row[f] - m) * (row[f] - m);
        const double s = 1.0 / std::sqrt(squares / static_cast<double>(features) + epsilon);
        mean[r] = m;
        inv[r] = s;
        for (int64_t f = 0; f < features; ++f)
          py[r * features + f] = static_cast<T>((row[f] - m) * s * pg[f] + pb[f]);
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
    std::vector<std::vector<double>> partial_gamma(static_cast<size_t>(chunks)), partial_beta(partial_gamma.size());
    auto chunk = [&](int64_t c) {
      FlushDenormals flush;
      std::vector<double>& dg = partial_gamma[static_cast<size_t>(c)];
      std::vector<double>& db = partial_beta[static_cast<size_t>(c)];
      dg.assign(static_cast<size_t>(features), 0.0);
      db.assign(static_cast<size_t>(features), 0.0);
      for (int64_t r = rows * c / chunks; r < rows * (c + 1) / chunks; ++r) {
        const T *row = px + r * features, *g = pdy + r * features;
        double mean_dn = 0, mean_dn_n = 0;
        for (int64_t f = 0; f < features; ++f) {
          const double n = (row[f] - mean[r]) * inv[r], dn = static_cast<double>(g[f]) * pg[f];
          mean_dn += dn;
          mean_dn_n += dn * n;
          dg[f] += g[f] * n;
          db[f] += g[f];
        }
        mean_dn /= static_cast<double>(features);
        mean_dn_n /= static_cast<double>(features);
        for (int64_t f = 0; f < features; ++f) {
          const double n = (row[f] - mean[r]) * inv[r], dn = static_cast<double>(g[f]) * pg[f];
          pdx[r * features + f] = static_cast<T>(inv[r] * (dn - mean_dn - n * mean_dn_n));
        }
      }
    };
    if (parallel)
      ThreadPool::instance().run(chunks, [&](int64_t c) { chunk(c); });
    else
      chunk(0);
    T *dgamma = grads.gamma.data<T>(), *dbeta = grads.beta.data<T>();
    for (int64_t f = 0; f < features; ++f) {
      double sg = 0, sb = 0;
      for (int64_t c = 0; c < chunks; ++c) {
        sg += partial_gamma[static_cast<size_t>(c)][static_cast<size_t>(f)];
        sb += partial_beta[static_cast<size_t>(c)][static_cast<size_t>(f)];
      }
      dgamma[f] = static_cast<T>(sg);
      dbeta[f] = static_cast<T>(sb);
    }
  });
  return grads;
}

}  // namespace axon::kernels
