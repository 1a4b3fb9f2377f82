// sum and mean, over everything or along one axis. Their gradient spreads g back
// over the reduced elements.
#include "axon/ops.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace axon {

namespace {

// g has the reduced shape; put the axis back as size 1 so it broadcasts over x.
Tensor spread(const Tensor& g, const Shape& x_shape, int64_t axis, bool keepdim, double factor) {
  Tensor grad = g;
  if (!keepdim) {
    std::vector<int64_t> dims = x_shape.dims();
    dims[static_cast<size_t>(axis)] = 1;
    grad = grad.reshape(dims);
  }
  if (factor != 1.0) grad = kernels::scale(grad, factor);
  return kernels::broadcast_to(grad, x_shape);
}

Variable sum_axis_op(const char* name, const Variable& x, int64_t axis, bool keepdim, bool average) {
  axis = x.shape().axis(axis, name);
  const Shape shape = x.shape();
  const int64_t n = shape[axis];
  if (average && n == 0) fail(name, ": axis ", axis, " of shape ", shape, " is empty");
  Tensor y = kernels::sum_axis(x.value(), axis, keepdim);
  const double factor = average ? 1.0 / static_cast<double>(n) : 1.0;
  if (average) y = kernels::scale(y, factor);
  return Variable::make(
      name, y, {x}, [shape, axis, keepdim, factor](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
        return {spread(g, shape, axis, keepdim, factor)};
      });
}

}  // namespace

Variable sum(const Variable& x) {
  const Shape shape = x.shape();
  return Variable::make("sum", kernels::sum_all(x.value()), {x},
                        [shape](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                          return {kernels::broadcast_to(g, shape)};
                        });
}

Variable mean(const Variable& x) {
  const Shape shape = x.shape();
  if (shape.numel() == 0) fail("mean: tensor of shape ", shape, " is empty");
  const double factor = 1.0 / static_cast<double>(shape.numel());
  return Variable::make("mean", kernels::scale(kernels::sum_all(x.value()), factor), {x},
                        [shape, factor](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                          return {kernels::broadcast_to(kernels::scale(g, factor), shape)};
                        });
}

Variable sum(const Variable& x, int64_t axis, bool keepdim) { return sum_axis_op("sum_axis", x, axis, keepdim, false); }
Variable mean(const Variable& x, int64_t axis, bool keepdim) {
  return sum_axis_op("mean_axis", x, axis, keepdim, true);
}

}  // namespace axon
