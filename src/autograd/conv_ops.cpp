// conv2d, max_pool2d and avg_pool2d on NCHW Variables, on the kernels in
// kernels/conv.cpp and kernels/pool.cpp.
#include "axon/ops.h"
#include "kernels/conv.h"
#include "kernels/pool.h"

namespace axon {

namespace {

// Pools ignore dilation.
Geometry2D undilated(Geometry2D g) {
  g.dilation_h = g.dilation_w = 1;
  return g;
}

// In training, the forward pass keeps its column matrices for the weight gradient, which
// would otherwise rebuild them (a tenth of a CNN step); null when no gradient will come.
std::shared_ptr<kernels::Conv2dColumns> keep_columns(const Variable& weight) {
  return grad_enabled() && weight.requires_grad() ? std::make_shared<kernels::Conv2dColumns>() : nullptr;
}

}  // namespace

// y = conv(x, w) + b[f];  dx = conv^T(dy, w),  dw = dy (x) x,  db = sum of dy over (n, h, w)
Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias, const Geometry2D& g, bool relu) {
  if (x.dtype() != weight.dtype()) fail("conv2d: input and kernel dtypes differ");
  if (bias.defined() && bias.shape() != Shape{weight.dim(0)})
    fail("conv2d: bias ", bias.shape(), " does not match ", weight.dim(0), " filters");
  auto kept = keep_columns(weight);
  Tensor y =
      kernels::conv2d(x.value(), weight.value(), g, bias.defined() ? bias.value() : Tensor(), relu, 0, kept.get());
  const Tensor vx = x.value(), vw = weight.value();
  std::vector<Variable> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  const Tensor relu_output = relu ? y : Tensor();
  return Variable::make(
      "conv2d", y, inputs,
      [vx, vw, g, relu_output, kept](const Tensor& dy, const std::vector<bool>& needs) -> std::vector<Tensor> {
        kernels::Conv2dGrads grads = kernels::conv2d_backward(dy, vx, vw, g, needs[0], needs[1],
                                                              needs.size() > 2 && needs[2], relu_output, 0, kept.get());
        std::vector<Tensor> result{std::move(grads.dx), std::move(grads.dw)};
        if (needs.size() > 2) result.push_back(std::move(grads.db));
        return result;
      });
}

Variable conv2d_max_pool2d(const Variable& x, const Variable& weight, const Variable& bias, const Geometry2D& g,
                           bool relu, Size2 pool_window, const Geometry2D& pool) {
  const kernels::Pool2dWindow window{pool_window.h, pool_window.w, undilated(pool)};
  if (bias.defined() && bias.shape() != Shape{weight.dim(0)})
    fail("conv2d: bias ", bias.shape(), " does not match ", weight.dim(0), " filters");
  auto kept = keep_columns(weight);
  auto forward = std::make_shared<kernels::Conv2dMaxPoolResult>(kernels::conv2d_max_pool2d(
      x.value(), weight.value(), g, bias.defined() ? bias.value() : Tensor(), relu, window, 0, kept.get()));
  const Tensor vx = x.value(), vw = weight.value();
  std::vector<Variable> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  return Variable::make(
      "conv2d_max_pool2d", forward->y, inputs,
      [forward, vx, vw, g, relu, kept](const Tensor& dy, const std::vector<bool>& needs) -> std::vector<Tensor> {
        kernels::Conv2dGrads grads = kernels::conv2d_max_pool2d_backward(
            dy, *forward, vx, vw, g, relu, needs[0], needs[1], needs.size() > 2 && needs[2], 0, kept.get());
        std::vector<Tensor> result{std::move(grads.dx), std::move(grads.dw)};
        if (needs.size() > 2) result.push_back(std::move(grads.db));
        return result;
      });
}

Variable max_pool2d(const Variable& x, Size2 window, const Geometry2D& pool) {
  kernels::MaxPoolResult result = kernels::max_pool2d(x.value(), window.h, window.w, undilated(pool));
  const Shape shape = x.shape();
  return Variable::make(
      "max_pool2d", result.y, {x},
      [argmax = std::move(result.argmax), shape](const Tensor& dy, const std::vector<bool>&) -> std::vector<Tensor> {
        return {kernels::max_pool2d_backward(dy, argmax.get(), shape)};
      });
}

Variable avg_pool2d(const Variable& x, Size2 window, const Geometry2D& pool) {
  const Geometry2D g = undilated(pool);
  const int64_t kh = window.h, kw = window.w;
  const Shape shape = x.shape();
  return Variable::make("avg_pool2d", kernels::avg_pool2d(x.value(), kh, kw, g), {x},
                        [shape, kh, kw, g](const Tensor& dy, const std::vector<bool>&) -> std::vector<Tensor> {
                          return {kernels::avg_pool2d_backward(dy, shape, kh, kw, g)};
                        });
}

}  // namespace axon
