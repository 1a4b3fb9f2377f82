#include "kernels/layout.h"

#include <cstring>

#include "kernels/parallel.h"

namespace axon::kernels {

namespace {

// Sizes before and after `axis`: x is viewed as (outer, x.dim(axis), inner).
int64_t outer_size(const Shape& s, int64_t axis) {
  int64_t n = 1;
  for (int64_t d = 0; d < axis; ++d) n *= s.dims()[static_cast<size_t>(d)];
  return n;
}
int64_t inner_size(const Shape& s, int64_t axis) {
  int64_t n = 1;
  for (int64_t d = axis + 1; d < s.rank(); ++d) n *= s.dims()[static_cast<size_t>(d)];
  return n;
}

// Copies `count` blocks of `block` elements from src (stride src_stride) to dst
// (stride dst_stride); strides and sizes in elements.
void copy_blocks(const Tensor& src, int64_t src_offset, int64_t src_stride, Tensor& dst, int64_t dst_offset,
                 int64_t dst_stride, int64_t count, int64_t block) {
  const size_t bytes = dtype_size(src.dtype());
  const auto* s = static_cast<const std::byte*>(src.raw());
  auto* d = static_cast<std::byte*>(dst.raw());
  parallel_for(count, block, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c)
      std::memcpy(d + static_cast<size_t>(dst_offset + c * dst_stride) * bytes,
                  s + static_cast<size_t>(src_offset + c * src_stride) * bytes, static_cast<size_t>(block) * bytes);
  });
}

}  // namespace

Tensor permute(const Tensor& x, const std::vector<int64_t>& order) {
  const int64_t rank = x.rank();
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  bool valid = static_cast<int64_t>(order.size()) == rank;
  for (int64_t axis : order) {
    valid = valid && axis >= 0 && axis < rank && !seen[static_cast<size_t>(axis)];
    if (valid) seen[static_cast<size_t>(axis)] = true;
  }
  if (!valid) fail("permute: the order must name each axis of ", x.shape(), " once");
  // Input strides, permuted into output order: y[idx] = x[sum(idx[d] * strides[d])].
  std::vector<int64_t> input_strides(static_cast<size_t>(rank)), dims(static_cast<size_t>(rank)),
      strides(static_cast<size_t>(rank));
  for (int64_t d = rank - 1, s = 1; d >= 0; --d) {
    input_strides[static_cast<size_t>(d)] = s;
    s *= x.dim(d);
  }
  bool identity = true;
  for (size_t d = 0; d < order.size(); ++d) {
    dims[d] = x.dim(order[d]);
    strides[d] = input_strides[static_cast<size_t>(order[d])];
    identity = identity && order[d] == static_cast<int64_t>(d);
  }
  Tensor y = Tensor::empty(Shape(dims), x.dtype());
  if (identity) {
    y.copy_from(x);
    return y;
  }
  dispatch_any(x.dtype(), [&](auto zero) {  // moves elements of any type
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    parallel_for(y.numel(), 2, [&](int64_t begin, int64_t end) {
      for (int64_t flat = begin; flat < end; ++flat) {
        int64_t rest = flat, offset = 0;
        for (int64_t d = rank - 1; d >= 0; --d) {
          const size_t u = static_cast<size_t>(d);
          offset += (rest % dims[u]) * strides[u];
          rest /= dims[u];
        }
        py[flat] = px[offset];
      }
    });
  });
  return y;
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  dim0 = x.shape().axis(dim0, "transpose");
  dim1 = x.shape().axis(dim1, "transpose");
  std::vector<int64_t> order(static_cast<size_t>(x.rank()));
  for (size_t d = 0; d < order.size(); ++d) order[d] = static_cast<int64_t>(d);
  std::swap(order[static_cast<size_t>(dim0)], order[static_cast<size_t>(dim1)]);
  return permute(x, order);
}

Tensor concat(const std::vector<Tensor>& parts, int64_t axis) {
  if (parts.empty()) fail("concat: no tensors given");
  const Shape& first = parts[0].shape();
  axis = first.axis(axis, "concat");
  std::vector<int64_t> dims = first.dims();
  dims[static_cast<size_t>(axis)] = 0;
  for (const Tensor& part : parts) {
    bool compatible = part.rank() == first.rank() && part.dtype() == parts[0].dtype();
    for (int64_t d = 0; compatible && d < first.rank(); ++d)
      compatible = d == axis || part.dim(d) == first.dims()[static_cast<size_t>(d)];
    if (!compatible) fail("concat: shape ", part.shape(), " does not match ", first, " outside axis ", axis);
    dims[static_cast<size_t>(axis)] += part.dim(axis);
  }
  Tensor y = Tensor::empty(Shape(dims), parts[0].dtype());
  const int64_t outer = outer_size(first, axis), inner = inner_size(first, axis);
  const int64_t out_row = dims[static_cast<size_t>(axis)] * inner;
  int64_t column = 0;
  for (const Tensor& part : parts) {
    const int64_t block = part.dim(axis) * inner;
    copy_blocks(part, 0, block, y, column, out_row, outer, block);
    column += block;
  }
  return y;
}

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end) {
  axis = x.shape().axis(axis, "slice");
  const int64_t size = x.dim(axis);
  if (start < 0 || end < start || end > size)
    fail("slice: range [", start, ", ", end, ") is outside axis ", axis, " of shape ", x.shape());
  std::vector<int64_t> dims = x.shape().dims();
  dims[static_cast<size_t>(axis)] = end - start;
  Tensor y = Tensor::empty(Shape(dims), x.dtype());
  const int64_t inner = inner_size(x.shape(), axis);
  copy_blocks(x, start * inner, size * inner, y, 0, (end - start) * inner, outer_size(x.shape(), axis),
              (end - start) * inner);
  return y;
}

Tensor slice_backward(const Tensor& g, const Shape& shape, int64_t axis, int64_t start) {
  Tensor dx = Tensor::zeros(shape, g.dtype());
  const int64_t inner = inner_size(shape, axis), size = shape.dims()[static_cast<size_t>(axis)];
  copy_blocks(g, 0, g.dim(axis) * inner, dx, start * inner, size * inner, outer_size(shape, axis), g.dim(axis) * inner);
  return dx;
}

Tensor index_select(const Tensor& x, int64_t axis, const std::vector<int64_t>& indices) {
  axis = x.shape().axis(axis, "index_select");
  const int64_t size = x.dim(axis);
  for (int64_t i : indices)
    if (i < 0 || i >= size)
      fail("index_select: index ", i, " is out of range for axis ", axis, " of shape ", x.shape());
  std::vector<int64_t> dims = x.shape().dims();
  dims[static_cast<size_t>(axis)] = static_cast<int64_t>(indices.size());
  Tensor y = Tensor::empty(Shape(dims), x.dtype());
  const int64_t outer = outer_size(x.shape(), axis), inner = inner_size(x.shape(), axis);
  const int64_t count = static_cast<int64_t>(indices.size());
  for (int64_t k = 0; k < count; ++k)
    copy_blocks(x, indices[static_cast<size_t>(k)] * inner, size * inner, y, k * inner, count * inner, outer, inner);
  return y;
}

Tensor index_add(const Tensor& g, const Shape& shape, int64_t axis, const std::vector<int64_t>& indices) {
  Tensor dx = Tensor::zeros(shape, g.dtype());
  const int64_t outer = outer_size(shape, axis), inner = inner_size(shape, axis);
  const int64_t size = shape.dims()[static_cast<size_t>(axis)], count = static_cast<int64_t>(indices.size());
  dispatch(g.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* pg = g.data<T>();
    T* pd = dx.data<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < count; ++k) {
        const T* src = pg + (o * count + k) * inner;
        T* dst = pd + (o * size + indices[static_cast<size_t>(k)]) * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] += src[i];
      }
  });
  return dx;
}

}  // namespace axon::kernels
