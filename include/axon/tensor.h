#pragma once
// Tensor: a dense, contiguous, row-major array of float32 (for work), float64 (for
// gradient checks), or int32 / int64 (labels, token ids: exact where float32 is not
// past 2^24). Storage is shared: copies and reshapes are cheap views of the same
// memory, `clone()` makes an independent copy. A Tensor knows nothing of gradients.
// The math kernels and autograd take floating tensors; integer ones are converted
// (to(), or where fit/evaluate/losses take labels) or used with tensor_ops.h.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "axon/error.h"
#include "axon/shape.h"

namespace axon {

enum class DType : uint8_t { f32, f64, i32, i64, i8 };  // i8: quantized weights

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // "float32", "float64", "int32", "int64", "int8"
bool is_floating(DType dtype);
[[noreturn]] void fail_not_floating(DType dtype);

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::i32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::i64;
}
template <>
constexpr DType dtype_of<int8_t>() {
  return DType::i8;
}

// Calls f(T{}) with T = float or double according to dtype; an integer dtype fails
// (the kernels that use this compute in floating point).
template <class F>
decltype(auto) dispatch(DType dtype, F&& f) {
  if (dtype == DType::f64) return f(double{});
  if (dtype != DType::f32) fail_not_floating(dtype);
  return f(float{});
}

// Calls f(T{}) with T = float, double, int32_t, int64_t or int8_t according to dtype.
template <class F>
decltype(auto) dispatch_any(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f64:
      return f(double{});
    case DType::i32:
      return f(int32_t{});
    case DType::i64:
      return f(int64_t{});
    case DType::i8:
      return f(int8_t{});
    case DType::f32:
      break;
  }
  return f(float{});
}

class Tensor {
 public:
  Tensor() = default;  // undefined: no storage, defined() is false

  static Tensor empty(const Shape& shape, DType dtype = DType::f32);  // uninitialised
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32);
  static Tensor ones(const Shape& shape, DType dtype = DType::f32);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32);
  static Tensor scalar(double value, DType dtype = DType::f32);
  // Copies values; their count must equal shape.numel().
  static Tensor from(const std::vector<float>& values, const Shape& shape);
  static Tensor from(const std::vector<double>& values, const Shape& shape);
  static Tensor from(const std::vector<int32_t>& values, const Shape& shape);
  static Tensor from(const std::vector<int64_t>& values, const Shape& shape);
  // A tensor over `data`, memory that `owner` keeps alive (a numpy array's buffer, for
  // the Python module): no copy. `data` holds shape.numel() contiguous elements.
  static Tensor view(std::shared_ptr<void> owner, void* data, const Shape& shape, DType dtype);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return shape_.rank(); }
  int64_t dim(int64_t i) const { return shape_[i]; }
  int64_t numel() const { return shape_.numel(); }
  DType dtype() const { return dtype_; }

  // Typed access to the elements; throws if T does not match dtype().
  template <class T>
  T* data();
  template <class T>
  const T* data() const;
  void* raw() { return static_cast<std::byte*>(storage_.get()) + offset_bytes(); }
  const void* raw() const { return static_cast<const std::byte*>(storage_.get()) + offset_bytes(); }

  // A view with the same elements in a new shape; one dimension may be -1 (inferred).
  Tensor reshape(const std::vector<int64_t>& dims) const;
  // A view of rows [begin, end) along axis 0.
  Tensor rows(int64_t begin, int64_t end) const;

  Tensor clone() const;
  Tensor to(DType dtype) const;  // converted copy (a clone if dtype is the same)
  void fill(double value);
  void copy_from(const Tensor& source);  // same shape required; dtypes may differ

  double item() const;                                 // the single element of a 1-element tensor
  double at(const std::vector<int64_t>& index) const;  // one element, as double
  std::vector<double> to_vector() const;               // all elements, as double

  // True when both hold the same shape and the same values within tolerance
  // (|a - b| <= atol + rtol * |b|, as numpy.allclose).
  bool allclose(const Tensor& other, double rtol = 1e-5, double atol = 1e-8) const;

 private:
  size_t offset_bytes() const { return static_cast<size_t>(offset_) * dtype_size(dtype_); }
  void check_defined(const char* op) const;

  std::shared_ptr<void> storage_;
  Shape shape_;
  DType dtype_ = DType::f32;
  int64_t offset_ = 0;  // in elements
};

std::ostream& operator<<(std::ostream& out, const Tensor& tensor);

template <class T>
T* Tensor::data() {
  if (dtype_of<T>() != dtype_)
    fail("Tensor::data: tensor is ", dtype_name(dtype_), ", not ", dtype_name(dtype_of<T>()));
  return static_cast<T*>(raw());
}

template <class T>
const T* Tensor::data() const {
  if (dtype_of<T>() != dtype_)
    fail("Tensor::data: tensor is ", dtype_name(dtype_), ", not ", dtype_name(dtype_of<T>()));
  return static_cast<const T*>(raw());
}

}  // namespace axon
