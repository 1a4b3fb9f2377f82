// conv2d, max_pool2d and avg_pool2d on NCHW Variables, on the kernels in
// kernels/conv.cpp and kernels/pool.cpp.
#include "axon/ops.h"
#include "kernels/conv.h"
#include "kernels/pool.h"
#include "kernels/reduce.h"

namespace axon {

namespace {

kernels::Conv2dGeometry geometry(const Conv2dOptions& o) {
  return {o.stride[0], o.stride[1], o.padding[0], o.padding[1], o.padding[2], o.padding[3], o.dilation[0], o.dilation[1]};
}

}  // namespace

// y = conv(x, w) + b[f];  dx = conv^T(dy, w),  dw = dy (x) x,  db = sum of dy over (n, h, w)
Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias, const Conv2dOptions& options) {
  const kernels::Conv2dGeometry g = geometry(options);
  if (x.dtype() != weight.dtype()) fail("conv2d: input and kernel dtypes differ");
  Tensor y = kernels::conv2d(x.value(), weight.value(), g);
  const int64_t filters = weight.dim(0);
  if (bias.defined()) {
    if (bias.shape() != Shape{filters}) fail("conv2d: bias ", bias.shape(), " does not match ", filters, " filters");
    dispatch(y.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T* b = bias.value().template data<T>();
      T* py = y.data<T>();
      const int64_t plane = y.dim(2) * y.dim(3);
      for (int64_t n = 0; n < y.dim(0); ++n)
        for (int64_t f = 0; f < filters; ++f)
          for (int64_t i = 0; i < plane; ++i) py[(n * filters + f) * plane + i] += b[f];
    });
  }
  const Tensor vx = x.value(), vw = weight.value();
  std::vector<Variable> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  return Variable::make("conv2d", y, inputs, [vx, vw, g](const Tensor& dy, const std::vector<bool>& needs) -> std::vector<Tensor> {
    std::vector<Tensor> grads(needs.size());
    if (needs[0]) grads[0] = kernels::conv2d_backward_input(dy, vw, vx.shape(), g);
    if (needs[1]) grads[1] = kernels::conv2d_backward_weight(dy, vx, vw.shape(), g);
    if (needs.size() > 2 && needs[2]) {
      // (N, F, H, W) -> sum over N and the plane -> (F,)
      const Tensor per_image = kernels::sum_axis(dy.reshape({dy.dim(0), dy.dim(1), -1}), 2, false);
      grads[2] = kernels::sum_axis(per_image, 0, false);
    }
    return grads;
  });
}

Variable max_pool2d(const Variable& x, const Pool2dOptions& options) {
  const kernels::Conv2dGeometry g = geometry({options.stride, options.padding, {1, 1}});
  kernels::MaxPoolResult result = kernels::max_pool2d(x.value(), options.size[0], options.size[1], g);
  const Shape shape = x.shape();
  return Variable::make("max_pool2d", result.y, {x}, [argmax = std::move(result.argmax), shape](const Tensor& dy, const std::vector<bool>&) -> std::vector<Tensor> {
    return {kernels::max_pool2d_backward(dy, argmax, shape)};
  });
}

Variable avg_pool2d(const Variable& x, const Pool2dOptions& options) {
  const kernels::Conv2dGeometry g = geometry({options.stride, options.padding, {1, 1}});
  const int64_t kh = options.size[0], kw = options.size[1];
  const Shape shape = x.shape();
  return Variable::make("avg_pool2d", kernels::avg_pool2d(x.value(), kh, kw, g), {x},
                        [shape, kh, kw, g](const Tensor& dy, const std::vector<bool>&) -> std::vector<Tensor> {
                          return {kernels::avg_pool2d_backward(dy, shape, kh, kw, g)};
                        });
}

}  // namespace axon
