#include "axon/pooling.h"

#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"
#include "kernels/pool.h"

namespace axon {

AXON_REGISTER(Module, "max_pool2d", MaxPool2D);
AXON_REGISTER(Module, "average_pool2d", AveragePool2D);
AXON_REGISTER(Module, "global_average_pool2d", GlobalAveragePool2D);
AXON_REGISTER(Module, "global_average_pooling1d", GlobalAveragePooling1D);
AXON_REGISTER(Module, "global_max_pooling1d", GlobalMaxPooling1D);

Pool2D::Pool2D(Kind kind, Size2 pool_size, std::optional<std::array<int64_t, 2>> strides, Padding padding)
    : kind_(kind),
      pool_size_(pool_size),
      window_{.strides = strides ? Size2((*strides)[0], (*strides)[1]) : pool_size, .padding = std::move(padding)} {
  if (pool_size_.h < 1 || pool_size_.w < 1)
    fail(type_name(), ": pool_size must be >= 1, got (", pool_size_.h, ", ", pool_size_.w, ")");
  window_.check(type_name());
}

Config Pool2D::config() const {
  Config c = Config::object().set("pool_size", Config::list({Config(pool_size_.h), Config(pool_size_.w)}));
  write_window(c, window_, false);
  return c;
}

Geometry2D Pool2D::geometry_for(const Shape& input_shape) const {
  if (input_shape.rank() != 4) fail(type_name(), ": input must be (batch, channels, height, width), got ", input_shape);
  const Geometry2D g = window_.resolve(input_shape[2], input_shape[3], pool_size_);
  try {
    kernels::pool2d_output_size(input_shape[2], input_shape[3], pool_size_.h, pool_size_.w, g, type_name().c_str());
  } catch (const Error& e) {
    fail(e.what(), " (input ", input_shape, ")");
  }
  return g;
}

Variable Pool2D::forward(const Variable& x) {
  const Geometry2D g = geometry_for(x.shape());
  return kind_ == Kind::max ? max_pool2d(x, pool_size_, g) : avg_pool2d(x, pool_size_, g);
}

Variable GlobalAveragePool2D::forward(const Variable& x) {
  if (x.rank() != 4) fail("GlobalAveragePool2D: input must be (batch, channels, height, width), got ", x.shape());
  return mean(reshape(x, {x.dim(0), x.dim(1), -1}), 2);
}

std::vector<std::string> Pool2D::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                             const std::vector<Shape>& shapes) const {
  const Geometry2D g = geometry_for(Shape{1, shapes[0][0], shapes[0][1], shapes[0][2]});
  // AveragePool leaves the padding out of its counts (count_include_pad 0), as avg_pool2d does.
  return {graph.op(kind_ == Kind::max ? "MaxPool" : "AveragePool", {inputs[0]},
                   {{"kernel_shape", std::vector<int64_t>{pool_size_.h, pool_size_.w}},
                    {"strides", std::vector<int64_t>{g.stride_h, g.stride_w}},
                    {"pads", std::vector<int64_t>{g.pad_top, g.pad_left, g.pad_bottom, g.pad_right}}})};
}

std::vector<std::string> GlobalAveragePool2D::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                          const std::vector<Shape>& shapes) const {
  (void)shapes;
  return {graph.op("Flatten", {graph.op("GlobalAveragePool", {inputs[0]})},
                   {{"axis", int64_t{1}}})};  // (N, C, 1, 1) -> (N, C)
}

namespace {

// (batch, time, features) -> (batch, features) by `reduce` over time.
Variable pool_time(const Variable& x, const char* layer, Variable (*reduce)(const Variable&)) {
  if (x.rank() != 3) fail(layer, ": expects (batch, time, features), got ", x.shape());
  return reduce(x);
}

// With a mask (batch, time) on x: the padded steps left out. A sequence of padding
// alone pools to zeros.
Variable masked_mean(const Variable& x) {
  const Tensor& mask = x.mask();
  if (!mask.defined()) return mean(x, 1, false);
  const int64_t batch = x.dim(0), time = x.dim(1);
  const Tensor weights = mask.to(x.dtype()).reshape({batch, time, 1});
  std::vector<double> inverse_counts(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    double count = 0;
    for (int64_t t = 0; t < time; ++t) count += mask.data<float>()[b * time + t];
    inverse_counts[static_cast<size_t>(b)] = count > 0 ? 1.0 / count : 0.0;
  }
  return sum(x * Variable(weights), 1, false) * Variable(Tensor::from(inverse_counts, Shape{batch, 1}).to(x.dtype()));
}

Variable masked_max(const Variable& x) {
  const Tensor& mask = x.mask();
  if (!mask.defined()) return max(x, 1, false);
  const int64_t batch = x.dim(0), time = x.dim(1);
  std::vector<double> penalty(static_cast<size_t>(batch * time)), any(static_cast<size_t>(batch), 0.0);
  for (int64_t i = 0; i < batch * time; ++i) {
    const bool real = mask.data<float>()[i] != 0;
    penalty[static_cast<size_t>(i)] = real ? 0.0 : -1e9;  // a padded step never wins over a real one
    if (real) any[static_cast<size_t>(i / time)] = 1.0;
  }
  const Variable shifted = x + Variable(Tensor::from(penalty, Shape{batch, time, 1}).to(x.dtype()));
  return max(shifted, 1, false) * Variable(Tensor::from(any, Shape{batch, 1}).to(x.dtype()));
}

// ONNX's `op` with axes [1] (the graph has no masks).
std::string export_time_pool(OnnxGraph& graph, const char* op, const std::string& x) {
  return graph.op(op, {x}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}});
}

}  // namespace

Variable GlobalAveragePooling1D::forward(const Variable& x) { return pool_time(x, "GlobalAveragePooling1D", masked_mean); }

std::vector<std::string> GlobalAveragePooling1D::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                             const std::vector<Shape>&) const {
  return {export_time_pool(graph, "ReduceMean", inputs[0])};
}

Variable GlobalMaxPooling1D::forward(const Variable& x) { return pool_time(x, "GlobalMaxPooling1D", masked_max); }

std::vector<std::string> GlobalMaxPooling1D::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                         const std::vector<Shape>&) const {
  return {export_time_pool(graph, "ReduceMax", inputs[0])};
}

}  // namespace axon
