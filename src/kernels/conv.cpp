#include "kernels/conv.h"

#include <cstring>

#include "kernels/gemm.h"
#include "kernels/parallel.h"

namespace axon::kernels {

namespace {

struct Dims {
  int64_t n, c, h, w, f, kh, kw, oh, ow;
  int64_t rows() const { return c * kh * kw; }     // of the column matrix
  int64_t columns() const { return n * oh * ow; }  // of the column matrix
};

Dims dims_of(const Shape& x, const Shape& w, const Conv2dGeometry& g) {
  if (x.rank() != 4) fail("conv2d: input must be (batch, channels, height, width), got ", x);
  if (w.rank() != 4) fail("conv2d: kernel must be (filters, channels, height, width), got ", w);
  if (x[1] != w[1]) fail("conv2d: input ", x, " has ", x[1], " channels, the kernel ", w, " expects ", w[1]);
  const auto [oh, ow] = conv2d_output_size(x[2], x[3], w[2], w[3], g);
  return {x[0], x[1], x[2], x[3], w[0], w[2], w[3], oh, ow};
}

// cols[(c, i, j), (n, y, x)] = input[n, c, y*sh - pt + i*dh, x*sw - pl + j*dw] (0 outside).
// With `add`, the adjoint: accumulates cols back into the input (col2im).
template <class T, bool add>
void im2col(const Dims& d, const Conv2dGeometry& g, T* image, T* cols) {
  const int64_t plane = d.oh * d.ow, width = d.columns();
  // Parallel over channels: col2im writes each channel's pixels from that channel's rows only.
  parallel_for(d.c, d.kh * d.kw * width, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t i = 0; i < d.kh; ++i)
        for (int64_t j = 0; j < d.kw; ++j) {
          T* row = cols + ((c * d.kh + i) * d.kw + j) * width;
          for (int64_t n = 0; n < d.n; ++n) {
            T* src = image + (n * d.c + c) * d.h * d.w;
            for (int64_t oy = 0; oy < d.oh; ++oy) {
              const int64_t y = oy * g.stride_h - g.pad_top + i * g.dilation_h;
              T* out = row + n * plane + oy * d.ow;
              if (y < 0 || y >= d.h) {
                if constexpr (!add) std::memset(out, 0, sizeof(T) * static_cast<size_t>(d.ow));
                continue;
              }
              for (int64_t ox = 0; ox < d.ow; ++ox) {
                const int64_t x = ox * g.stride_w - g.pad_left + j * g.dilation_w;
                const bool inside = x >= 0 && x < d.w;
                if constexpr (add) {
                  if (inside) src[y * d.w + x] += out[ox];
                } else {
                  out[ox] = inside ? src[y * d.w + x] : T(0);
                }
              }
            }
          }
        }
  });
}

// (F, N*OH*OW) <-> (N, F, OH, OW)
template <class T>
void filters_major_to_nchw(const Dims& d, const T* in, T* out) {
  const int64_t plane = d.oh * d.ow;
  for (int64_t f = 0; f < d.f; ++f)
    for (int64_t n = 0; n < d.n; ++n) std::memcpy(out + (n * d.f + f) * plane, in + f * d.columns() + n * plane, sizeof(T) * static_cast<size_t>(plane));
}
template <class T>
void nchw_to_filters_major(const Dims& d, const T* in, T* out) {
  const int64_t plane = d.oh * d.ow;
  for (int64_t f = 0; f < d.f; ++f)
    for (int64_t n = 0; n < d.n; ++n) std::memcpy(out + f * d.columns() + n * plane, in + (n * d.f + f) * plane, sizeof(T) * static_cast<size_t>(plane));
}

void check_dy(const Tensor& dy, const Dims& d) {
  if (dy.shape() != Shape{d.n, d.f, d.oh, d.ow}) fail("conv2d backward: gradient ", dy.shape(), " does not match output (", d.n, ", ", d.f, ", ", d.oh, ", ", d.ow, ")");
}

}  // namespace

std::pair<int64_t, int64_t> conv2d_output_size(int64_t h, int64_t w, int64_t kh, int64_t kw, const Conv2dGeometry& g, const char* who) {
  if (g.stride_h < 1 || g.stride_w < 1) fail(who, ": strides must be >= 1, got (", g.stride_h, ", ", g.stride_w, ")");
  if (g.dilation_h < 1 || g.dilation_w < 1) fail(who, ": dilation must be >= 1, got (", g.dilation_h, ", ", g.dilation_w, ")");
  if (g.pad_top < 0 || g.pad_bottom < 0 || g.pad_left < 0 || g.pad_right < 0) fail(who, ": padding must be >= 0");
  const int64_t span_h = g.dilation_h * (kh - 1) + 1, span_w = g.dilation_w * (kw - 1) + 1;
  const int64_t padded_h = h + g.pad_top + g.pad_bottom, padded_w = w + g.pad_left + g.pad_right;
  if (kh < 1 || kw < 1 || span_h > padded_h || span_w > padded_w)
    fail(who, ": kernel (", kh, ", ", kw, ") with dilation (", g.dilation_h, ", ", g.dilation_w, ") does not fit the padded input (", padded_h, ", ",
         padded_w, ")");
  return {(padded_h - span_h) / g.stride_h + 1, (padded_w - span_w) / g.stride_w + 1};
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Conv2dGeometry& g) {
  const Dims d = dims_of(x.shape(), w.shape(), g);
  if (x.dtype() != w.dtype()) fail("conv2d: input and kernel dtypes differ");
  Tensor y = Tensor::empty({d.n, d.f, d.oh, d.ow}, x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    Tensor cols = Tensor::empty({d.rows(), d.columns()}, x.dtype());
    im2col<T, false>(d, g, const_cast<T*>(x.data<T>()), cols.data<T>());
    Tensor out = Tensor::empty({d.f, d.columns()}, x.dtype());
    gemm<T>(false, false, d.f, d.columns(), d.rows(), T(1), w.data<T>(), d.rows(), cols.data<T>(), d.columns(), T(0), out.data<T>(), d.columns());
    filters_major_to_nchw(d, out.data<T>(), y.data<T>());
  });
  return y;
}

Tensor conv2d_backward_input(const Tensor& dy, const Tensor& w, const Shape& x_shape, const Conv2dGeometry& g) {
  const Dims d = dims_of(x_shape, w.shape(), g);
  check_dy(dy, d);
  Tensor dx = Tensor::zeros(x_shape, dy.dtype());
  dispatch(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    Tensor g_major = Tensor::empty({d.f, d.columns()}, dy.dtype());
    nchw_to_filters_major(d, dy.data<T>(), g_major.data<T>());
    Tensor cols = Tensor::empty({d.rows(), d.columns()}, dy.dtype());
    gemm<T>(true, false, d.rows(), d.columns(), d.f, T(1), w.data<T>(), d.rows(), g_major.data<T>(), d.columns(), T(0), cols.data<T>(), d.columns());
    im2col<T, true>(d, g, dx.data<T>(), cols.data<T>());
  });
  return dx;
}

Tensor conv2d_backward_weight(const Tensor& dy, const Tensor& x, const Shape& w_shape, const Conv2dGeometry& g) {
  const Dims d = dims_of(x.shape(), w_shape, g);
  check_dy(dy, d);
  Tensor dw = Tensor::empty(w_shape, dy.dtype());
  dispatch(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    Tensor g_major = Tensor::empty({d.f, d.columns()}, dy.dtype());
    nchw_to_filters_major(d, dy.data<T>(), g_major.data<T>());
    Tensor cols = Tensor::empty({d.rows(), d.columns()}, dy.dtype());
    im2col<T, false>(d, g, const_cast<T*>(x.data<T>()), cols.data<T>());
    gemm<T>(false, true, d.f, d.rows(), d.columns(), T(1), g_major.data<T>(), d.columns(), cols.data<T>(), d.columns(), T(0), dw.data<T>(), d.rows());
  });
  return dw;
}

// The references: the definition, one output (or input) element at a time.
namespace {

template <class T, class Visit>
void for_each_tap(const Dims& d, const Conv2dGeometry& g, Visit&& visit) {
  for (int64_t n = 0; n < d.n; ++n)
    for (int64_t f = 0; f < d.f; ++f)
      for (int64_t oy = 0; oy < d.oh; ++oy)
        for (int64_t ox = 0; ox < d.ow; ++ox)
          for (int64_t c = 0; c < d.c; ++c)
            for (int64_t i = 0; i < d.kh; ++i)
              for (int64_t j = 0; j < d.kw; ++j) {
                const int64_t y = oy * g.stride_h - g.pad_top + i * g.dilation_h, x = ox * g.stride_w - g.pad_left + j * g.dilation_w;
                if (y < 0 || y >= d.h || x < 0 || x >= d.w) continue;
                visit(((n * d.f + f) * d.oh + oy) * d.ow + ox, ((n * d.c + c) * d.h + y) * d.w + x, ((f * d.c + c) * d.kh + i) * d.kw + j);
              }
}

}  // namespace

Tensor conv2d_naive(const Tensor& x, const Tensor& w, const Conv2dGeometry& g) {
  const Dims d = dims_of(x.shape(), w.shape(), g);
  Tensor y = Tensor::zeros({d.n, d.f, d.oh, d.ow}, x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    for_each_tap<T>(d, g, [&](int64_t yo, int64_t xi, int64_t wi) { y.data<T>()[yo] += x.data<T>()[xi] * w.data<T>()[wi]; });
  });
  return y;
}

Tensor conv2d_backward_input_naive(const Tensor& dy, const Tensor& w, const Shape& x_shape, const Conv2dGeometry& g) {
  const Dims d = dims_of(x_shape, w.shape(), g);
  Tensor dx = Tensor::zeros(x_shape, dy.dtype());
  dispatch(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    for_each_tap<T>(d, g, [&](int64_t yo, int64_t xi, int64_t wi) { dx.data<T>()[xi] += dy.data<T>()[yo] * w.data<T>()[wi]; });
  });
  return dx;
}

Tensor conv2d_backward_weight_naive(const Tensor& dy, const Tensor& x, const Shape& w_shape, const Conv2dGeometry& g) {
  const Dims d = dims_of(x.shape(), w_shape, g);
  Tensor dw = Tensor::zeros(w_shape, dy.dtype());
  dispatch(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    for_each_tap<T>(d, g, [&](int64_t yo, int64_t xi, int64_t wi) { dw.data<T>()[wi] += dy.data<T>()[yo] * x.data<T>()[xi]; });
  });
  return dw;
}

}  // namespace axon::kernels
