// reshape, flatten, transpose, permute, concat, slice, stack, split and index_select:
// ops that move elements.
#include "axon/ops.h"
#include "kernels/layout.h"

namespace axon {

Variable reshape(const Variable& x, const std::vector<int64_t>& dims) {
  const Shape shape = x.shape();
  return Variable::make(
      "reshape", x.value().reshape(dims), {x},
      [shape](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> { return {g.reshape(shape.dims())}; });
}

Variable flatten(const Variable& x) {
  if (x.rank() < 1) fail("flatten: needs a batch axis, got shape ", x.shape());
  return reshape(x, {x.dim(0), x.dim(0) == 0 ? 0 : x.numel() / x.dim(0)});
}

Variable transpose(const Variable& x, int64_t dim0, int64_t dim1) {
  dim0 = x.shape().axis(dim0, "transpose");
  dim1 = x.shape().axis(dim1, "transpose");
  return Variable::make("transpose", kernels::transpose(x.value(), dim0, dim1), {x},
                        [dim0, dim1](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                          return {kernels::transpose(g, dim0, dim1)};
                        });
}

Variable permute(const Variable& x, const std::vector<int64_t>& order) {
  std::vector<int64_t> inverse(order.size());
  const Tensor y = kernels::permute(x.value(), order);  // checks the order
  for (size_t d = 0; d < order.size(); ++d) inverse[static_cast<size_t>(order[d])] = static_cast<int64_t>(d);
  return Variable::make("permute", y, {x}, [inverse](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
    return {kernels::permute(g, inverse)};
  });
}

Variable concat(const std::vector<Variable>& parts, int64_t axis) {
  if (parts.empty()) fail("concat: no tensors given");
  std::vector<Tensor> values;
  std::vector<int64_t> sizes;
  for (const Variable& part : parts) values.push_back(part.value());
  const Tensor y = kernels::concat(values, axis);
  axis = y.shape().axis(axis, "concat");
  for (const Tensor& value : values) sizes.push_back(value.dim(axis));
  return Variable::make("concat", y, parts,
                        [sizes, axis](const Tensor& g, const std::vector<bool>& needs) -> std::vector<Tensor> {
                          std::vector<Tensor> grads(sizes.size());
                          int64_t start = 0;
                          for (size_t i = 0; i < sizes.size(); ++i) {
                            if (needs[i]) grads[i] = kernels::slice(g, axis, start, start + sizes[i]);
                            start += sizes[i];
                          }
                          return grads;
                        });
}

Variable slice(const Variable& x, int64_t axis, int64_t start, int64_t end) {
  axis = x.shape().axis(axis, "slice");
  const Shape shape = x.shape();
  return Variable::make("slice", kernels::slice(x.value(), axis, start, end), {x},
                        [shape, axis, start](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                          return {kernels::slice_backward(g, shape, axis, start)};
                        });
}

Variable stack(const std::vector<Variable>& parts, int64_t axis) {
  if (parts.empty()) fail("stack: no tensors given");
  const Shape& shape = parts[0].shape();
  if (axis < 0) axis += shape.rank() + 1;
  if (axis < 0 || axis > shape.rank()) fail("stack: axis out of range for ", shape.rank() + 1, " axes");
  std::vector<int64_t> dims = shape.dims();
  dims.insert(dims.begin() + axis, 1);
  std::vector<Variable> expanded;
  for (const Variable& part : parts) {
    if (part.shape() != shape) fail("stack: every part must be ", shape, ", got ", part.shape());
    expanded.push_back(reshape(part, dims));
  }
  return concat(expanded, axis);
}

std::vector<Variable> split(const Variable& x, const std::vector<int64_t>& sizes, int64_t axis) {
  axis = x.shape().axis(axis, "split");
  int64_t start = 0;
  std::vector<Variable> pieces;
  for (int64_t size : sizes) {
    if (size < 0 || size > x.dim(axis) - start) fail("split: sizes ", Shape(sizes), " do not add up to ", x.dim(axis));
    pieces.push_back(slice(x, axis, start, start + size));
    start += size;
  }
  if (start != x.dim(axis)) fail("split: sizes ", Shape(sizes), " do not add up to ", x.dim(axis));
  return pieces;
}

Variable index_select(const Variable& x, int64_t axis, const std::vector<int64_t>& indices) {
  axis = x.shape().axis(axis, "index_select");
  const Shape shape = x.shape();
  return Variable::make("index_select", kernels::index_select(x.value(), axis, indices), {x},
                        [shape, axis, indices](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                          return {kernels::index_add(g, shape, axis, indices)};
                        });
}

}  // namespace axon
