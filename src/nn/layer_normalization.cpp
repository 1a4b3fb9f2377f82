#include "axon/layer_normalization.h"

#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "layer_normalization", LayerNormalization);

LayerNormalization::LayerNormalization(double epsilon) : epsilon_(epsilon) {
  if (!(epsilon > 0)) fail("LayerNormalization: epsilon must be > 0, got ", epsilon);
}

std::shared_ptr<LayerNormalization> LayerNormalization::from_config(const ConfigReader& c) {
  return std::make_shared<LayerNormalization>(c.number_or("epsilon", 1e-3, 0, 1, false));
}

void LayerNormalization::create_weights(const Shape& input_shape) {
  if (input_shape.rank() < 2) fail("LayerNormalization: expects (batch, ..., features), got ", input_shape);
  const int64_t features = input_shape[input_shape.rank() - 1];
  gamma_ = add_weight("gamma", Tensor::ones(Shape{features}));
  beta_ = add_weight("beta", Tensor::zeros(Shape{features}));
}

// x (batch, ..., features): statistics over the last axis, one fused op.
Variable LayerNormalization::forward(const Variable& x) {
  if (x.dim(-1) != gamma_.dim(0))
    fail("LayerNormalization: input ", x.shape(), " has ", x.dim(-1), " features; this layer was built for ",
         gamma_.dim(0));
  return layer_norm(x, gamma_, beta_, epsilon_);
}

std::vector<std::string> LayerNormalization::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                         const std::vector<Shape>& shapes) const {
  (void)shapes;
  const std::string& x = inputs[0];
  if (graph.opset() >= 17)
    return graph.node("LayerNormalization", {x, graph.weight(gamma_), graph.weight(beta_)},
                      {{"axis", int64_t{-1}}, {"epsilon", epsilon_}});
  const std::vector<OnnxGraph::Attribute> last_axis = {{"axes", std::vector<int64_t>{-1}}, {"keepdims", int64_t{1}}};
  const std::string centered = graph.op("Sub", {x, graph.op("ReduceMean", {x}, last_axis)});
  const std::string variance = graph.op("ReduceMean", {graph.op("Mul", {centered, centered})}, last_axis);
  const std::string deviation =
      graph.op("Sqrt", {graph.op("Add", {variance, graph.constant("epsilon", Tensor::scalar(epsilon_))})});
  const std::string normalized = graph.op("Div", {centered, deviation});
  return {graph.op("Add", {graph.op("Mul", {normalized, graph.weight(gamma_)}), graph.weight(beta_)})};
}

}  // namespace axon
