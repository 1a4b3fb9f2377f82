#include "axon/dense.h"

#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "dense", Dense);

Dense::Dense(int64_t units, const std::string& activation_name, WeightOptions options)
    : units_(units),
      activation_name_(activation_name),
      activation_(activation(activation_name)),
      options_(std::move(options)) {
  if (units < 1) fail("Dense: units must be >= 1, got ", units);
}

Config Dense::config() const {
  Config c = Config::object().set("units", units_).set("activation", activation_name_);
  options_.write(c);
  return c;
}

std::shared_ptr<Dense> Dense::from_config(const ConfigReader& c) {
  return std::make_shared<Dense>(c.integer("units", 1), c.string_or("activation", "linear"), WeightOptions::read(c));
}

void Dense::create_weights(const Shape& input_shape) {
  if (input_shape.rank() < 1 || input_shape[-1] < 1)
    fail("Dense: input of shape ", input_shape, " has no features on its last axis");
  const int64_t in = input_shape[-1];
  auto [kernel, bias] = options_.initial(Shape{in, units_}, Shape{units_}, in, units_);
  kernel_ = add_weight("kernel", std::move(kernel), true, options_.kernel_regularizer);
  if (options_.use_bias) bias_ = add_weight("bias", std::move(bias), true, options_.bias_regularizer);
}

Variable Dense::forward(const Variable& x) {
  if (x.dim(-1) != kernel_.dim(0))
    fail("Dense: input ", x.shape(), " has ", x.dim(-1), " features; this layer was built for ", kernel_.dim(0));
  if (activation_name_ == "relu") return linear(x, kernel_, bias_, true);  // fused: one op
  return activation_(linear(x, kernel_, bias_));
}

std::vector<std::string> Dense::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                            const std::vector<Shape>& shapes) const {
  (void)shapes;
  std::string y = graph.op("MatMul", {inputs[0], graph.weight(kernel_)});  // (..., in) x (in, units)
  if (bias_.defined()) y = graph.op("Add", {y, graph.weight(bias_)});
  return {onnx_activation(graph, activation_name_, y)};
}

}  // namespace axon
