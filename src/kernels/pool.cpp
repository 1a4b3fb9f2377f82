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
  if (g.pad_top >= kh || g.pad_bottom >= kh || g.pad_left >= kw || g.pad_right >= kw)
    fail(who, ": padding must be smaller than the window (", kh, ", ", kw, ") so no window is all padding");
  const auto [oh, ow] = conv2d_output_size(x[2], x[3], kh, kw, g, who);
  return {x[0], x[1], x[2], x[3], oh, ow};
}

// Calls visit(output index, first input index of its plane, y0, y1, x0, x1) for each
// output element, the window [y0, y1) x [x0, x1) clipped to the image; parallel over
// (image, channel) planes. Pooling windows are dense (no dilation).
template <class Visit>
void for_each_window(const PoolDims& d, int64_t kh, int64_t kw, const Conv2dGeometry& g, Visit&& visit) {
  parallel_for(d.n * d.c, d.oh * d.ow * kh * kw, [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; ++plane)
      for (int64_t oy = 0; oy < d.oh; ++oy) {
        const int64_t top = oy * g.stride_h - g.pad_top;
        const int64_t y0 = std::max<int64_t>(top, 0), y1 = std::min(top + kh, d.h);
        for (int64_t ox = 0; ox < d.ow; ++ox) {
          const int64_t left = ox * g.stride_w - g.pad_left;
          visit((plane * d.oh + oy) * d.ow + ox, plane * d.h * d.w, y0, y1, std::max<int64_t>(left, 0), std::min(left + kw, d.w));
        }
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
    for_each_window(d, kh, kw, g, [&](int64_t out, int64_t base, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
      int64_t where = base + y0 * d.w + x0;
      T best = px[where];
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x)
          if (px[base + y * d.w + x] > best) {
            best = px[base + y * d.w + x];
            where = base + y * d.w + x;
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
    for_each_window(d, kh, kw, g, [&](int64_t out, int64_t base, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
      T total = 0;
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x) total += px[base + y * d.w + x];
      py[out] = total / static_cast<T>((y1 - y0) * (x1 - x0));
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
    for_each_window(d, kh, kw, g, [&](int64_t o, int64_t base, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
      const T share = pg[o] / static_cast<T>((y1 - y0) * (x1 - x0));
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x) out[base + y * d.w + x] += share;
    });
  });
  return dx;
}

}  // namespace axon::kernels
