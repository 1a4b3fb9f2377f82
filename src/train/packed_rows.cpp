#include "packed_rows.h"

#include <algorithm>

namespace axon::detail {

Tensor pack_rows(const std::vector<Tensor>& parts) {
  const int64_t n = parts.front().dim(0);
  int64_t total = 0;
  for (const Tensor& p : parts) total += p.numel() / std::max<int64_t>(n, 1);
  Tensor packed = Tensor::empty(Shape{n, total});
  int64_t offset = 0;
  for (const Tensor& p : parts) {
    const Tensor part = p.dtype() == DType::f32 ? p : p.to(DType::f32);
    const int64_t width = part.numel() / std::max<int64_t>(n, 1);
    for (int64_t r = 0; r < n; ++r)
      std::copy_n(part.data<float>() + r * width, width, packed.data<float>() + r * total + offset);
    offset += width;
  }
  return packed;
}

std::vector<Tensor> unpack_rows(const Tensor& packed, const std::vector<Shape>& shapes) {
  const int64_t rows = packed.dim(0), total = packed.dim(1);
  std::vector<Tensor> parts;
  int64_t offset = 0;
  for (const Shape& shape : shapes) {
    std::vector<int64_t> dims = shape.dims();
    dims.insert(dims.begin(), rows);
    Tensor part = Tensor::empty(Shape(dims));
    const int64_t width = shape.numel();
    for (int64_t r = 0; r < rows; ++r)
      std::copy_n(packed.data<float>() + r * total + offset, width, part.data<float>() + r * width);
    offset += width;
    parts.push_back(std::move(part));
  }
  return parts;
}

}  // namespace axon::detail
