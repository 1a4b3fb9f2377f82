#pragma once
// Shape: the dimensions of a tensor, outermost first. A rank-0 shape is a scalar.
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

namespace axon {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(std::vector<int64_t> dims);

  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  // Dimension i; negative i counts from the end (-1 is the last).
  int64_t operator[](int64_t i) const;
  int64_t numel() const;
  const std::vector<int64_t>& dims() const { return dims_; }
  // Resolves a possibly negative axis to [0, rank), or throws naming `op`.
  int64_t axis(int64_t axis, const char* op) const;
  std::string str() const;  // "(32, 784)"

  bool operator==(const Shape& other) const = default;

 private:
  std::vector<int64_t> dims_;
};

std::ostream& operator<<(std::ostream& out, const Shape& shape);

// NumPy broadcasting of two shapes; throws naming `op` when they are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace axon
