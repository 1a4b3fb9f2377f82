// The convolution's references (conv.h): the definition, one output (or input)
// element at a time, which the tests hold the fast kernels equal to.
#include "kernels/conv.h"
#include "kernels/conv_dims.h"

namespace axon::kernels {

namespace {

template <class T, class Visit>
void for_each_tap(const ConvDims& d, const Geometry2D& g, Visit&& visit) {
  for (int64_t n = 0; n < d.n; ++n)
    for (int64_t f = 0; f < d.f; ++f)
      for (int64_t oy = 0; oy < d.oh; ++oy)
        for (int64_t ox = 0; ox < d.ow; ++ox)
          for (int64_t c = 0; c < d.c; ++c)
            for (int64_t i = 0; i < d.kh; ++i)
              for (int64_t j = 0; j < d.kw; ++j) {
                const int64_t y = oy * g.stride_h - g.pad_top + i * g.dilation_h,
                              x = ox * g.stride_w - g.pad_left + j * g.dilation_w;
                if (y < 0 || y >= d.h || x < 0 || x >= d.w) continue;
                visit(((n * d.f + f) * d.oh + oy) * d.ow + ox, ((n * d.c + c) * d.h + y) * d.w + x,
                      ((f * d.c + c) * d.kh + i) * d.kw + j);
              }
}

}  // namespace

Tensor conv2d_naive(const Tensor& x, const Tensor& w, const Geometry2D& g) {
  const ConvDims d = conv_dims_of(x.shape(), w.shape(), g);
  Tensor y = Tensor::zeros({d.n, d.f, d.oh, d.ow}, x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    for_each_tap<T>(d, g,
                    [&](int64_t yo, int64_t xi, int64_t wi) { y.data<T>()[yo] += x.data<T>()[xi] * w.data<T>()[wi]; });
  });
  return y;
}

Tensor conv2d_backward_input_naive(const Tensor& dy, const Tensor& w, const Shape& x_shape, const Geometry2D& g) {
  const ConvDims d = conv_dims_of(x_shape, w.shape(), g);
  Tensor dx = Tensor::zeros(x_shape, dy.dtype());
  dispatch(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    for_each_tap<T>(
        d, g, [&](int64_t yo, int64_t xi, int64_t wi) { dx.data<T>()[xi] += dy.data<T>()[yo] * w.data<T>()[wi]; });
  });
  return dx;
}

Tensor conv2d_backward_weight_naive(const Tensor& dy, const Tensor& x, const Shape& w_shape, const Geometry2D& g) {
  const ConvDims d = conv_dims_of(x.shape(), w_shape, g);
  Tensor dw = Tensor::zeros(w_shape, dy.dtype());
  dispatch(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    for_each_tap<T>(
        d, g, [&](int64_t yo, int64_t xi, int64_t wi) { dw.data<T>()[wi] += dy.data<T>()[yo] * x.data<T>()[xi]; });
  });
  return dw;
}

}  // namespace axon::kernels
