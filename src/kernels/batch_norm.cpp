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

// Channel c's statistics recorded and its values normalised: y = gamma * (x - m) / sqrt(v + epsilon) + beta.
template <class T>
void normalize_channel(const Layout& l, int64_t c, double m, double v, double epsilon, const Tensor& x,
                       const Tensor& gamma, const Tensor& beta, BatchNormForward& out) {
  const T* px = x.data<T>();
  T* py = out.y.data<T>();
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

// Channel c's sum(dy) and sum(dy * (x - mean)).
template <class T>
std::pair<double, double> dy_sums(const Layout& l, int64_t c, const T* px, const T* pg, T mean) {
  double sum_dy = 0, sum_dy_centred = 0;
  for_each_run(l, c, [&](int64_t at) {
    const auto [s1, s2] = run_sums<T>(l.inner, [&](int64_t i) {
      return std::pair<T, T>{pg[at + i], pg[at + i] * (px[at + i] - mean)};
    });
    sum_dy += s1, sum_dy_centred += s2;
  });
  return {sum_dy, sum_dy_centred};
}

// Channel c's dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat)), scale = gamma * inv_std.
template <class T>
void batch_dx(const Layout& l, int64_t c, const T* px, const T* pg, T* pdx, T scale, T mean_dy, T mean_dy_xhat, T mu,
              T inv_std) {
  for_each_run(l, c, [&](int64_t at) {
    for (int64_t i = 0; i < l.inner; ++i)
      pdx[at + i] = scale * (pg[at + i] - mean_dy - (px[at + i] - mu) * inv_std * mean_dy_xhat);
  });
}

void check_per_channel(const Layout& l, const Tensor& x, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors)
    if (t->defined() && (t->shape() != Shape{l.channels} || t->dtype() != x.dtype()))
      fail("batch_norm: a per-channel tensor ", t->shape(), " does not match the ", l.channels, " channels of ",
           x.shape());
}

}  // namespace

BatchNormForward batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                            const Tensor& variance, double epsilon) {
  const Layout l = layout_of(x, gamma);
  const bool batch_statistics = !mean.defined();
  check_per_channel(l, x, {&beta, &mean, &variance});
  if (batch_statistics && l.per_channel() < 1) fail("batch_norm: no values to take statistics of in ", x.shape());
  BatchNormForward out{Tensor::empty(x.shape(), x.dtype()), Tensor::empty({l.channels}, x.dtype()),
                       Tensor::empty({l.channels}, x.dtype()), Tensor::empty({l.channels}, x.dtype()),
                       static_cast<double>(l.per_channel())};
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
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
        normalize_channel<T>(l, c, m, v, epsilon, x, gamma, beta, out);
      }
    });
  });
  return out;
}

BatchNormForward batch_norm_across(const Tensor& x, const Tensor& gamma, const Tensor& beta, double epsilon,
                                   const SumAcrossReplicas& across) {
  const Layout l = layout_of(x, gamma);
  check_per_channel(l, x, {&beta});
  const auto channels = static_cast<size_t>(l.channels);
  BatchNormForward out{Tensor::empty(x.shape(), x.dtype()), Tensor::empty({l.channels}, x.dtype()),
                       Tensor::empty({l.channels}, x.dtype()), Tensor::empty({l.channels}, x.dtype())};
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    // Per channel: sum(x), then sum((x - mean)^2); the last entry counts the values.
    std::vector<double> sums(channels + 1), squares(channels);
    const auto channel_sum = [&](int64_t c, T centre, bool squared) {
      double total = 0;
      for_each_run(l, c, [&](int64_t at) {
        total += run_sums<T>(l.inner, [&](int64_t i) {
                   const T d = px[at + i] - centre;
                   return std::pair<T, T>{squared ? d * d : d, T(0)};
                 }).first;
      });
      return total;
    };
    parallel_for(l.channels, l.per_channel(), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) sums[static_cast<size_t>(c)] = channel_sum(c, T(0), false);
    });
    sums[channels] = static_cast<double>(l.per_channel());
    across(sums);
    out.count = sums[channels];
    if (out.count < 1) fail("batch_norm: no values to take statistics of over the replicas");
    parallel_for(l.channels, l.per_channel(), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c)
        squares[static_cast<size_t>(c)] =
            channel_sum(c, static_cast<T>(sums[static_cast<size_t>(c)] / out.count), true);
    });
    across(squares);
    parallel_for(l.channels, 2 * l.per_channel(), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        const auto k = static_cast<size_t>(c);
        normalize_channel<T>(l, c, sums[k] / out.count, squares[k] / out.count, epsilon, x, gamma, beta, out);
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
        // sum(dy * xhat) = inv_std * sum(dy * (x - mean))
        const auto [sum_dy, sum_dy_centred] = dy_sums<T>(l, c, px, pg, static_cast<T>(m));
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
        const auto count = static_cast<double>(l.per_channel());
        batch_dx<T>(l, c, px, pg, pdx, scale, static_cast<T>(sum_dy / count), static_cast<T>(sum_dy_xhat / count),
                    static_cast<T>(m), static_cast<T>(inv_std));
      }
    });
  });
  return grads;
}

BatchNormGrads batch_norm_backward_across(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                          const BatchNormForward& forward, const SumAcrossReplicas& across) {
  const Layout l = layout_of(x, gamma);
  if (dy.shape() != x.shape() || dy.dtype() != x.dtype())
    fail("batch_norm backward: gradient ", dy.shape(), " does not match the input ", x.shape());
  const auto channels = static_cast<size_t>(l.channels);
  BatchNormGrads grads{Tensor::empty(x.shape(), x.dtype()), Tensor::empty({l.channels}, x.dtype()),
                       Tensor::empty({l.channels}, x.dtype())};
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T *px = x.data<T>(), *pg = dy.data<T>(), *mean = forward.mean.data<T>(), *inv_std = forward.inv_std.data<T>();
    std::vector<double> sums(2 * channels);  // sum(dy) per channel, then sum(dy * xhat)
    parallel_for(l.channels, 2 * l.per_channel(), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        const auto k = static_cast<size_t>(c);
        const auto [sum_dy, sum_dy_centred] = dy_sums<T>(l, c, px, pg, mean[c]);
        sums[k] = sum_dy, sums[channels + k] = sum_dy_centred * inv_std[c];
        grads.dbeta.data<T>()[c] = static_cast<T>(sums[k]);
        grads.dgamma.data<T>()[c] = static_cast<T>(sums[channels + k]);
      }
    });
    across(sums);
    parallel_for(l.channels, 2 * l.per_channel(), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        const auto k = static_cast<size_t>(c);
        batch_dx<T>(l, c, px, pg, grads.dx.data<T>(), static_cast<T>(gamma.data<T>()[c] * inv_std[c]),
                    static_cast<T>(sums[k] / forward.count), static_cast<T>(sums[channels + k] / forward.count),
                    mean[c], inv_std[c]);
      }
    });
  });
  return grads;
}

}  // namespace axon::kernels
