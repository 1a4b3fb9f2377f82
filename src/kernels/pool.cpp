#include "kernels/pool.h"

#include <limits>

#include "kernels/parallel.h"

namespace axon::kernels {

namespace {

struct PoolDims {
  int64_t n, c, h, w, oh, ow;
};

PoolDims pool_dims(const Shape& x, int64_t kh, int64_t kw, const Conv2dGeometry& g, const char* who) {
  if (x.rank() != 4) fail(who, ": input must be (batch, channels, height, width), got ", x);
  const auto [oh, ow] = conv2d_output_size(x[2], x[3], kh, kw, g, who);
  return {x[0], x[1], x[2], x[3], oh, ow};
}

// Calls visit(output index, first input index of its plane, window top, window left)
// for each output element; parallel over (image, channel) planes.
template <class Visit>
void for_each_window(const PoolDims& d, int64_t kh, int64_t kw, const Conv2dGeometry& g, Visit&& visit) {
  parallel_for(d.n * d.c, d.oh * d.ow * kh * kw, [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; ++plane)
      for (int64_t oy = 0; oy < d.oh; ++oy)
        for (int64_t ox = 0; ox < d.ow; ++ox) {
          const int64_t y0 = oy * g.stride_h - g.pad_top, x0 = ox * g.stride_w - g.pad_left;
          visit((plane * d.oh + oy) * d.ow + ox, plane * d.h * d.w, y0, x0);
        }
  });
}

}  // namespace

MaxPoolResult max_pool2d(const Tensor& x, int64_t kh, int64_t kw, const Conv2dGeometry& g) {
  const PoolDims d = pool_dims(x.shape(), kh, kw, g, "max_pool2d");
  MaxPoolResult result{Tensor::empty({d.n, d.c, d.oh, d.ow}, x.dtype()), std::vector<int64_t>(static_cast<size_t>(d.n * d.c * d.oh * d.ow))};
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* py = result.y.data<T>();
    for_each_window(d, kh, kw, g, [&](int64_t out, int64_t base, int64_t y0, int64_t x0) {
      T best = -std::numeric_limits<T>::infinity();
      int64_t where = -1;
      for (int64_t i = 0; i < kh; ++i)
        for (int64_t j = 0; j < kw; ++j) {
          const int64_t y = y0 + i * g.dilation_h, xx = x0 + j * g.dilation_w;
          if (y < 0 || y >= d.h || xx < 0 || xx >= d.w) continue;
          const int64_t at = base + y * d.w + xx;
          if (where < 0 || px[at] > best) {
            best = px[at];
            where = at;
          }
        }
      py[out] = best;
      result.argmax[static_cast<size_t>(out)] = where;
    });
  });
  return result;
}

Tensor max_pool2d_backward(const Tensor& dy, const std::vector<int64_t>& argmax, const Shape& x_shape) {
  if (static_cast<int64_t>(argmax.size()) != dy.numel()) fail("max_pool2d backward: ", dy.numel(), " gradients for ", argmax.size(), " outputs");
  Tensor dx = Tensor::zeros(x_shape, dy.dtype());
  dispatch(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* g = dy.data<T>();
    T* out = dx.data<T>();
    for (size_t i = 0; i < argmax.size(); ++i) out[argmax[i]] += g[i];
  });
  return dx;
}

Tensor avg_pool2d(const Tensor& x, int64_t kh, int64_t kw, const Conv2dGeometry& g) {
  const PoolDims d = pool_dims(x.shape(), kh, kw, g, "avg_pool2d");
  Tensor y = Tensor::empty({d.n, d.c, d.oh, d.ow}, x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for_each_window(d, kh, kw, g, [&](int64_t out, int64_t base, int64_t y0, int64_t x0) {
      T total = 0;
      int64_t count = 0;
      for (int64_t i = 0; i < kh; ++i)
        for (int64_t j = 0; j < kw; ++j) {
          const int64_t yy = y0 + i * g.dilation_h, xx = x0 + j * g.dilation_w;
          if (yy < 0 || yy >= d.h || xx < 0 || xx >= d.w) continue;
          total += px[base + yy * d.w + xx];
          ++count;
        }
      py[out] = count ? total / static_cast<T>(count) : T(0);
    });
  });
  return y;
}

Tensor avg_pool2d_backward(const Tensor& dy, const Shape& x_shape, int64_t kh, int64_t kw, const Conv2dGeometry& g) {
  const PoolDims d = pool_dims(x_shape, kh, kw, g, "avg_pool2d");
  if (dy.shape() != Shape{d.n, d.c, d.oh, d.ow}) fail("avg_pool2d backward: gradient ", dy.shape(), " does not match the output");
  Tensor dx = Tensor::zeros(x_shape, dy.dtype());
  dispatch(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* pg = dy.data<T>();
    T* out = dx.data<T>();
    // Planes are independent, so the parallel split over planes has no write conflicts.
    for_each_window(d, kh, kw, g, [&](int64_t o, int64_t base, int64_t y0, int64_t x0) {
      int64_t count = 0;
      for (int64_t pass = 0; pass < 2; ++pass)
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j) {
            const int64_t yy = y0 + i * g.dilation_h, xx = x0 + j * g.dilation_w;
            if (yy < 0 || yy >= d.h || xx < 0 || xx >= d.w) continue;
            if (pass == 0) ++count;
            else out[base + yy * d.w + xx] += pg[o] / static_cast<T>(count);
          }
    });
  });
  return dx;
}

}  // namespace axon::kernels
