#pragma once
// Pooling layers on NCHW images: MaxPool2D, AveragePool2D (strides default to the pool
// size, as Keras) and GlobalAveragePool2D ((N, C, H, W) -> (N, C)); over sequences,
// GlobalAveragePooling1D and GlobalMaxPooling1D ((batch, time, features) -> (batch,
// features), as Keras), leaving out the steps a sequence mask marks as padding.
#include <memory>
#include <optional>

#include "axon/conv2d.h"

namespace axon {

class Pool2D : public Module {
 public:
  enum class Kind { max, average };

  Variable forward(const Variable& x) override;
  std::string type_name() const override { return kind_ == Kind::max ? "MaxPool2D" : "AveragePool2D"; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  Config config() const override;
  Kind kind() const { return kind_; }
  Size2 pool_size() const { return pool_size_; }
  const Window& window() const { return window_; }
  // The geometry for an input of this shape; throws naming the layer and the shape when
  // the window does not fit.
  Geometry2D geometry_for(const Shape& input_shape) const;

 protected:
  // strides default to the pool size (a list, not a Size2, so MaxPool2D({2, 2}) is unambiguous).
  Pool2D(Kind kind, Size2 pool_size, std::optional<std::array<int64_t, 2>> strides, Padding padding);
  template <class Pool>
  static std::shared_ptr<Pool> read(const ConfigReader& config);

 private:
  Kind kind_;
  Size2 pool_size_;
  Window window_;
};

struct MaxPool2D : Pool2D {
  explicit MaxPool2D(Size2 pool_size = 2, std::optional<std::array<int64_t, 2>> strides = std::nullopt,
                     Padding padding = "valid")
      : Pool2D(Kind::max, pool_size, strides, std::move(padding)) {}
  static std::shared_ptr<MaxPool2D> from_config(const ConfigReader& config) { return read<MaxPool2D>(config); }
};
struct AveragePool2D : Pool2D {
  explicit AveragePool2D(Size2 pool_size = 2, std::optional<std::array<int64_t, 2>> strides = std::nullopt,
                         Padding padding = "valid")
      : Pool2D(Kind::average, pool_size, strides, std::move(padding)) {}
  static std::shared_ptr<AveragePool2D> from_config(const ConfigReader& config) { return read<AveragePool2D>(config); }
};

template <class Pool>
std::shared_ptr<Pool> Pool2D::read(const ConfigReader& c) {
  const Size2 size = c.has("pool_size") ? Size2(c.pair("pool_size", 1)[0], c.pair("pool_size", 1)[1]) : Size2(2);
  const Window window = read_window(c, {.strides = size});
  return std::make_shared<Pool>(size, std::array<int64_t, 2>{window.strides.h, window.strides.w}, window.padding);
}

class GlobalAveragePool2D : public Module {
 public:
  Variable forward(const Variable& x) override;
  std::string type_name() const override { return "GlobalAveragePool2D"; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
};

class GlobalAveragePooling1D : public Module {
 public:
  Variable forward(const Variable& x) override;
  std::string type_name() const override { return "GlobalAveragePooling1D"; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
};

class GlobalMaxPooling1D : public Module {
 public:
  Variable forward(const Variable& x) override;
  std::string type_name() const override { return "GlobalMaxPooling1D"; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
};

}  // namespace axon
