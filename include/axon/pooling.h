#pragma once
// Pooling layers on NCHW images: MaxPool2D, AveragePool2D (strides default to the pool
// size, as Keras) and GlobalAveragePool2D ((N, C, H, W) -> (N, C)).
#include <array>
#include <optional>

#include "axon/conv2d.h"

namespace axon {

class Pool2D : public Module {
 public:
  enum class Kind { max, average };
  Pool2D(Kind kind, std::array<int64_t, 2> pool_size, std::optional<std::array<int64_t, 2>> strides, Padding padding);

  Variable forward(const Variable& x) override;
  std::string type_name() const override { return kind_ == Kind::max ? "MaxPool2D" : "AveragePool2D"; }
  Kind kind() const { return kind_; }
  const std::array<int64_t, 2>& pool_size() const { return pool_size_; }
  const std::array<int64_t, 2>& strides() const { return strides_; }
  const Padding& padding() const { return padding_; }
  // The pooling op's options for this input; throws naming the layer and the shape when
  // the window does not fit.
  Pool2dOptions window_for(const Shape& input_shape) const;

 private:
  Kind kind_;
  std::array<int64_t, 2> pool_size_, strides_;
  Padding padding_;
};

struct MaxPool2D : Pool2D {
  explicit MaxPool2D(std::array<int64_t, 2> pool_size = {2, 2}, std::optional<std::array<int64_t, 2>> strides = std::nullopt,
                     Padding padding = "valid")
      : Pool2D(Kind::max, pool_size, strides, padding) {}
};
struct AveragePool2D : Pool2D {
  explicit AveragePool2D(std::array<int64_t, 2> pool_size = {2, 2}, std::optional<std::array<int64_t, 2>> strides = std::nullopt,
                         Padding padding = "valid")
      : Pool2D(Kind::average, pool_size, strides, padding) {}
};

class GlobalAveragePool2D : public Module {
 public:
  Variable forward(const Variable& x) override;
  std::string type_name() const override { return "GlobalAveragePool2D"; }
};

}  // namespace axon
