#include "axon/shape.h"

#include <algorithm>

#include "axon/checked_math.h"

namespace axon {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::vector<int64_t>(dims)) {}

// The product of the nonzero dimensions must fit in int64 (numpy's rule), so that the
// strides of every axis fit too: an empty (0, 2^40, 2^40) would otherwise overflow the
// stride of its first axis.
Shape::Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {
  int64_t total = 1;
  for (int64_t d : dims_) {
    if (d < 0) fail("Shape: negative dimension in ", str());
    if (d != 0) total = checked_mul(total, d, "Shape: ", *this, " has too many elements");
  }
}

int64_t Shape::operator[](int64_t i) const { return dims_[static_cast<size_t>(axis(i, "Shape"))]; }

int64_t Shape::numel() const {
  int64_t total = 1;
  for (int64_t d : dims_) total = checked_mul(total, d, "Shape: ", *this, " has too many elements");
  return total;
}

int64_t Shape::axis(int64_t axis, const char* op) const {
  const int64_t r = rank();
  if (axis < -r || axis >= r) fail(op, ": axis ", axis, " is out of range for shape ", str());
  return axis < 0 ? axis + r : axis;
}

std::string Shape::str() const {
  std::string s = "(";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[i]);
  }
  if (dims_.size() == 1) s += ",";
  return s + ")";
}

std::ostream& operator<<(std::ostream& out, const Shape& shape) { return out << shape.str(); }

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int64_t rank = std::max(a.rank(), b.rank());
  std::vector<int64_t> dims(static_cast<size_t>(rank));
  for (int64_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.rank() ? 1 : a.dims()[static_cast<size_t>(i - (rank - a.rank()))];
    const int64_t db = i < rank - b.rank() ? 1 : b.dims()[static_cast<size_t>(i - (rank - b.rank()))];
    if (da != db && da != 1 && db != 1) fail(op, ": shapes ", a, " and ", b, " cannot be broadcast together");
    dims[static_cast<size_t>(i)] = da == 1 ? db : da;
  }
  return Shape(std::move(dims));
}

}  // namespace axon
