#include "axon/tensor.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <ostream>
#include <type_traits>

#include "axon/checked_math.h"
#include "tensor/allocation_limit.h"
#include "tensor/block_cache.h"

namespace axon {

namespace {

std::shared_ptr<void> allocate(int64_t numel, DType dtype) {
  const size_t bytes = static_cast<size_t>(numel) * dtype_size(dtype);
  detail::AllocationLimit::charge(bytes);
  return detail::allocate_tensor_memory(bytes);
}

}  // namespace

size_t dtype_size(DType dtype) {
  if (dtype == DType::i8) return 1;
  return dtype == DType::f64 || dtype == DType::i64 ? 8 : 4;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f64:
      return "float64";
    case DType::i32:
      return "int32";
    case DType::i64:
      return "int64";
    case DType::i8:
      return "int8";
    case DType::f32:
      break;
  }
  return "float32";
}

bool is_floating(DType dtype) { return dtype == DType::f32 || dtype == DType::f64; }

void fail_not_floating(DType dtype) {
  fail("this operation needs a float32 or float64 tensor, got ", dtype_name(dtype),
       " (convert with to(DType::f32), or use the integer arithmetic of tensor_ops.h)");
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  Tensor t;
  t.storage_ = allocate(shape.numel(), dtype);
  t.shape_ = shape;
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::view(std::shared_ptr<void> owner, void* data, const Shape& shape, DType dtype) {
  if (data == nullptr && shape.numel() > 0) fail("Tensor::view: no data for ", shape.numel(), " elements");
  Tensor t;
  t.storage_ = std::shared_ptr<void>(std::move(owner), data);  // shares owner's lifetime
  t.shape_ = shape;
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw(), 0, static_cast<size_t>(t.numel()) * dtype_size(dtype));
  return t;
}

Tensor Tensor::ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  t.fill(value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype) { return full(Shape{}, value, dtype); }

template <class T>
static Tensor from_values(const std::vector<T>& values, const Shape& shape) {
  if (static_cast<int64_t>(values.size()) != shape.numel())
    fail("Tensor::from: ", values.size(), " values do not fill shape ", shape);
  Tensor t = Tensor::empty(shape, dtype_of<T>());
  if (!values.empty()) std::memcpy(t.data<T>(), values.data(), values.size() * sizeof(T));
  return t;
}

Tensor Tensor::from(const std::vector<float>& values, const Shape& shape) { return from_values(values, shape); }
Tensor Tensor::from(const std::vector<double>& values, const Shape& shape) { return from_values(values, shape); }
Tensor Tensor::from(const std::vector<int32_t>& values, const Shape& shape) { return from_values(values, shape); }
Tensor Tensor::from(const std::vector<int64_t>& values, const Shape& shape) { return from_values(values, shape); }

namespace {

// A floating value into an integer type: truncated toward zero (as numpy's astype),
// and it must fit; NaN, infinity and out-of-range values fail instead of wrapping.
template <class Out, class In>
Out converted(In value) {
  if constexpr (std::is_integral_v<Out> && std::is_floating_point_v<In>) {
    constexpr double low = static_cast<double>(std::numeric_limits<Out>::min());
    constexpr double high = -low;  // 2^31 or 2^63: the first value past the top
    if (!(static_cast<double>(value) >= low && static_cast<double>(value) < high))
      fail("conversion to ", dtype_name(dtype_of<Out>()), ": ", value, " does not fit");
  } else if constexpr (std::is_integral_v<Out> && std::is_integral_v<In> && sizeof(Out) < sizeof(In)) {
    if (value < std::numeric_limits<Out>::min() || value > std::numeric_limits<Out>::max())
      fail("conversion to ", dtype_name(dtype_of<Out>()), ": ", value, " does not fit");
  }
  return static_cast<Out>(value);
}

}  // namespace

void Tensor::check_defined(const char* op) const {
  if (!defined()) fail(op, ": tensor is undefined");
}

Tensor Tensor::reshape(const std::vector<int64_t>& dims) const {
  check_defined("reshape");
  std::vector<int64_t> resolved = dims;
  int64_t known = 1, inferred = -1;
  for (size_t i = 0; i < resolved.size(); ++i) {
    if (resolved[i] == -1) {
      if (inferred >= 0) fail("reshape: more than one -1 in the target shape");
      inferred = static_cast<int64_t>(i);
    } else if (resolved[i] < 0) {
      fail("reshape: invalid dimension ", resolved[i]);
    } else {
      known = checked_mul(known, resolved[i], "reshape: target shape");
    }
  }
  if (inferred >= 0) {
    if (known == 0 || numel() % known != 0) fail("reshape: cannot reshape ", shape_, " with a -1 dimension");
    resolved[static_cast<size_t>(inferred)] = numel() / known;
  }
  Shape target(resolved);
  if (target.numel() != numel()) fail("reshape: cannot reshape ", shape_, " (", numel(), " elements) to ", target);
  Tensor view = *this;
  view.shape_ = target;
  return view;
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  check_defined("rows");
  if (rank() < 1) fail("rows: needs rank >= 1, got shape ", shape_);
  if (begin < 0 || end < begin || end > shape_[0])
    fail("rows: range [", begin, ", ", end, ") is outside axis 0 of shape ", shape_);
  std::vector<int64_t> dims = shape_.dims();
  const int64_t row_size = dims[0] == 0 ? 0 : numel() / dims[0];
  dims[0] = end - begin;
  Tensor view = *this;
  view.shape_ = Shape(dims);
  view.offset_ += begin * row_size;
  return view;
}

Tensor Tensor::clone() const {
  check_defined("clone");
  Tensor copy = empty(shape_, dtype_);
  std::memcpy(copy.raw(), raw(), static_cast<size_t>(numel()) * dtype_size(dtype_));
  return copy;
}

Tensor Tensor::to(DType dtype) const {
  Tensor out = empty(shape_, dtype);
  out.copy_from(*this);
  return out;
}

void Tensor::fill(double value) {
  check_defined("fill");
  dispatch_any(dtype_, [&](auto zero) {
    using T = decltype(zero);
    const T v = converted<T>(value);
    T* p = data<T>();
    for (int64_t i = 0, n = numel(); i < n; ++i) p[i] = v;
  });
}

void Tensor::copy_from(const Tensor& source) {
  check_defined("copy_from");
  source.check_defined("copy_from");
  if (source.shape() != shape_) fail("copy_from: shape ", source.shape(), " does not match ", shape_);
  dispatch_any(dtype_, [&](auto zero_out) {
    using Out = decltype(zero_out);
    dispatch_any(source.dtype(), [&](auto zero_in) {
      using In = decltype(zero_in);
      const In* in = source.data<In>();
      Out* out = data<Out>();
      for (int64_t i = 0, n = numel(); i < n; ++i) out[i] = converted<Out>(in[i]);
    });
  });
}

double Tensor::item() const {
  check_defined("item");
  if (numel() != 1) fail("item: tensor of shape ", shape_, " has ", numel(), " elements, not 1");
  return dispatch_any(dtype_, [&](auto zero) { return static_cast<double>(data<decltype(zero)>()[0]); });
}

double Tensor::at(const std::vector<int64_t>& index) const {
  check_defined("at");
  if (static_cast<int64_t>(index.size()) != rank()) fail("at: index of rank ", index.size(), " for shape ", shape_);
  int64_t flat = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    const int64_t d = shape_.dims()[i];
    if (index[i] < 0 || index[i] >= d) fail("at: index ", index[i], " out of range for axis ", i, " of shape ", shape_);
    flat = flat * d + index[i];
  }
  return dispatch_any(dtype_, [&](auto zero) { return static_cast<double>(data<decltype(zero)>()[flat]); });
}

std::vector<double> Tensor::to_vector() const {
  check_defined("to_vector");
  std::vector<double> values(static_cast<size_t>(numel()));
  dispatch_any(dtype_, [&](auto zero) {
    const auto* p = data<decltype(zero)>();
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(p[i]);
  });
  return values;
}

bool Tensor::allclose(const Tensor& other, double rtol, double atol) const {
  if (shape_ != other.shape_) return false;
  const std::vector<double> a = to_vector(), b = other.to_vector();
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) return false;
    if (std::abs(a[i] - b[i]) > atol + rtol * std::abs(b[i])) return false;
  }
  return true;
}

std::ostream& operator<<(std::ostream& out, const Tensor& tensor) {
  if (!tensor.defined()) return out << "Tensor(undefined)";
  out << "Tensor(" << tensor.shape() << ", " << dtype_name(tensor.dtype()) << ", [";
  const std::vector<double> values = tensor.to_vector();
  const size_t shown = std::min<size_t>(values.size(), 8);
  for (size_t i = 0; i < shown; ++i) out << (i ? ", " : "") << values[i];
  if (values.size() > shown) out << ", ...";
  return out << "])";
}

}  // namespace axon
