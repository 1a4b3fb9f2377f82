#include "kernels/batch_norm.h"

#include <cmath>

#include "kernels/parallel.h"

namespace axon::kernels {

namespace {

// x as (outer, C, inner): channel c's values are `outer` runs of `inner` contiguous values.
struct Layout {
  int64_t outer, channels, inner;
  int64_t per_channel() const { return outer * inner; }
};

Layout layout_of(const Tensor& x, const Tensor& gamma) {
  if (x.rank() < 2) fail("batch_norm: input must be (batch, channels, ...), got ", x.shape());
  const int64_t channels = x.dim(1);
  if (gamma.shape() != Shape{channels} || gamma.dtype() != x.dtype())
    fail("batch_norm: gamma ", gamma.shape(), " does not match the ", channels, " channels of ", x.shape());
  return {x.dim(0), channels, channels ? x.numel() / (x.dim(0) * channels) : 0};
}

// Calls f(offset) for the start of each run of channel c.
template <class F>
void for_each_run(const Layout& l, int64_t c, F&& f) {
  for (int64_t n = 0; n < l.outer; ++n) f((n * l.channels + c) * l.inner);
}

// Sums over one run of n values, in 8 independent lanes so the compiler vectorizes them;
// a run is short (one image plane), the caller adds the runs up in double.
template <class T, class F>
std::pair<double, double> run_sums(int64_t n, F&& terms) {
  T a[8] = {}, b[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) {
      const auto [u, v] = terms(i + k);
      a[k] += u, b[k] += v;
    }
  double sum_a = 0, sum_b = 0;
  for (; i < n; ++i) {
    const auto [u, v] = terms(i);
    sum_a += u, sum_b += v;
  }
  for (int k = 0; k < 8; ++k) sum_a += a[k], sum_b += b[k];
  return {sum_a, sum_b};
}

}  // namespace

BatchNormForward batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                            const Tensor& variance, double epsilon) {
  const Layout l = layout_of(x, gamma);
  const bool batch_statistics = !mean.defined();
  for (const Tensor* t : {&beta, &mean, &variance})
    if (t->defined() && (t->shape() != Shape{l.channels} || t->dtype() != x.dtype()))
      fail("batch_norm: a per-channel tensor ", t->shape(), " does not match the ", l.channels, " channels of ",
           x.shape());
  if (batch_statistics && l.per_channel() < 1) fail("batch_norm: no values to take statistics of in ", x.shape());
  BatchNormForward out{Tensor::empty(x.shape(), x.dtype()), Tensor::empty({l.channels}, x.dtype()),
                       Tensor::empty({l.channels}, x.dtype()), Tensor::empty({l.channels}, x.dtype())};
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* py = out.y.data<T>();
    parallel_for(l.channels, 2 * l.per_channel(), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        double m, v;
        if (batch_statistics) {  // shifted by the first value, so the variance does not cancel catastrophically
          const T shift = px[c * l.inner];
          double sum = 0, squares = 0;
          for_each_run(l, c, [&](int64_t at) {
            const auto [s1, s2] = run_sums<T>(l.inner, [&](int64_t i) {
              const T d = px[at + i] - shift;
              return std::pair<T, T>{d, d * d};
            });
            sum += s1, squares += s2;
          });
          const auto count = static_cast<double>(l.per_channel());
          m = static_cast<double>(shift) + sum / count;
          v = std::max(squares / count - (sum / count) * (sum / count), 0.0);
        } else {
          m = mean.data<T>()[c], v = variance.data<T>()[c];
        }
        const double inv_std = 1.0 / std::sqrt(v + epsilon);
        out.mean.data<T>()[c] = static_cast<T>(m);
        out.variance.data<T>()[c] = static_cast<T>(v);
        out.inv_std.data<T>()[c] = static_cast<T>(inv_std);
        const T scale = static_cast<T>(gamma.data<T>()[c] * inv_std);
        const T offset = static_cast<T>((beta.defined() ? beta.data<T>()[c] : T(0)) - m * gamma.data<T>()[c] * inv_std);
        for_each_run(l, c, [&](int64_t at) {
          for (int64_t i = 0; i < l.inner; ++i) py[at + i] = px[at + i] * scale + offset;
        });
      }
    });
  });
  return out;
}

BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                   const BatchNormForward& forward, bool batch_statistics) {
  const Layout l = layout_of(x, gamma);
  if (dy.shape() != x.shape() || dy.dtype() != x.dtype())
    fail("batch_norm backward: gradient ", dy.shape(), " does not match the input ", x.shape());
  BatchNormGrads grads{Tensor::empty(x.shape(), x.dtype()), Tensor::empty({l.channels}, x.dtype()),
                       Tensor::empty({l.channels}, x.dtype())};
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T *px = x.data<T>(), *pg = dy.data<T>();
    T* pdx = grads.dx.data<T>();
    parallel_for(l.channels, 2 * l.per_channel(), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        const double m = forward.mean.data<T>()[c], inv_std = forward.inv_std.data<T>()[c], g = gamma.data<T>()[c];
        double sum_dy = 0, sum_dy_centred = 0;  // sum(dy * xhat) = inv_std * sum(dy * (x - mean))
        const T mean_t = static_cast<T>(m);
        for_each_run(l, c, [&](int64_t at) {
          const auto [s1, s2] = run_sums<T>(l.inner, [&](int64_t i) {
            return std::pair<T, T>{pg[at + i], pg[at + i] * (px[at + i] - mean_t)};
          });
          sum_dy += s1, sum_dy_centred += s2;
        });
        const double sum_dy_xhat = sum_dy_centred * inv_std;
        grads.dbeta.data<T>()[c] = static_cast<T>(sum_dy);
        grads.dgamma.data<T>()[c] = static_cast<T>(sum_dy_xhat);
        const T scale = static_cast<T>(g * inv_std);
        if (!batch_statistics) {
          for_each_run(l, c, [&](int64_t at) {
            for (int64_t i = 0; i < l.inner; ++i) pdx[at + i] = pg[at + i] * scale;
          });
          continue;
        }
        // dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat))
        const auto count = static_cast<double>(l.per_channel());
        const T mean_dy = static_cast<T>(sum_dy / count), mean_dy_xhat = static_cast<T>(sum_dy_xhat / count);
        const T mu = static_cast<T>(m), istd = static_cast<T>(inv_std);
        for_each_run(l, c, [&](int64_t at) {
          for (int64_t i = 0; i < l.inner; ++i)
            pdx[at + i] = scale * (pg[at + i] - mean_dy - (px[at + i] - mu) * istd * mean_dy_xhat);
        });
      }
    });
  });
  return grads;
}

}  // namespace axon::kernels
