// sum and mean, over everything or along one axis: their gradient spreads g back over
// the reduced elements. max along an axis: its gradient goes to the largest element.
#include "axon/ops.h"
#include "axon/tensor_ops.h"
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

Variable max(const Variable& x, int64_t axis, bool keepdim) {
  axis = x.shape().axis(axis, "max");
  const Shape shape = x.shape();
  if (shape[axis] == 0) fail("max: axis ", axis, " of shape ", shape, " is empty");
  const Tensor winners = argmax(x.value(), axis, false);  // (outer, inner) positions along the axis
  return Variable::make("max_axis", max(x.value(), axis, keepdim), {x},
                        [shape, axis, winners](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                          // x as (outer, n, inner): g's element (o, i) goes to (o, winner, i).
                          const int64_t n = shape[axis];
                          int64_t after = 1;
                          for (int64_t d = axis + 1; d < shape.rank(); ++d) after *= shape[d];
                          Tensor grad = Tensor::zeros(shape, g.dtype());
                          const std::vector<double> index = winners.to_vector();
                          dispatch(g.dtype(), [&](auto zero) {
                            using T = decltype(zero);
                            const T* from = g.data<T>();
                            T* to = grad.data<T>();
                            for (size_t k = 0; k < index.size(); ++k) {
                              const int64_t o = static_cast<int64_t>(k) / after, i = static_cast<int64_t>(k) % after;
                              to[(o * n + static_cast<int64_t>(index[k])) * after + i] = from[k];
                            }
                          });
                          return {grad};
                        });
}

}  // namespace axon
