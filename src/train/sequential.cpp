#include "axon/sequential.h"

#include <algorithm>
#include <typeinfo>

#include "axon/functional.h"
#include "axon/model_spec.h"
#include "axon/registry.h"
#include "graph.h"

namespace axon {

AXON_REGISTER(Module, "sequential", Sequential);

Sequential::Sequential() = default;
Sequential::Sequential(const Shape& input_shape) { set_input_shape(input_shape); }
Sequential::~Sequential() = default;
Sequential::Sequential(Sequential&&) noexcept = default;

namespace {

Shape example_of(const Shape& batch) {
  const std::vector<int64_t>& dims = batch.dims();
  return Shape(std::vector<int64_t>(dims.begin() + (dims.empty() ? 0 : 1), dims.end()));
}

}  // namespace

detail::Graph& Sequential::graph_for(const Shape& example) {
  if (children().empty()) fail("Sequential: no layers; add() some first");
  if (!graph_ || example != planned_for_ || planned_layers_ != children().size()) {
    // The layers as a graph over this input, planned once (fusions chosen here).
    graph_.reset();
    const SymbolicTensor input = Input(example);
    SymbolicTensor y = input;
    for (const auto& [path, layer] : children()) y = (*layer)(y);
    graph_ = std::make_unique<detail::Graph>(std::vector<SymbolicTensor>{input}, std::vector<SymbolicTensor>{y});
    planned_for_ = example;
    planned_layers_ = children().size();
  }
  return *graph_;
}

Variable Sequential::call(const Variable& x) { return graph_for(example_of(x.shape())).run({x})[0]; }

const detail::Graph* Sequential::inference_graph(const std::vector<Tensor>& x) {
  // A subclass with its own call() runs its own code.
  if (typeid(*this) != typeid(Sequential) || x.size() != 1 || x[0].rank() < 1) return nullptr;
  return &graph_for(example_of(x[0].shape()));
}

Module& Sequential::layer(size_t i) const {
  if (i >= children().size()) fail("Sequential::layer: index ", i, " out of range (", children().size(), " layers)");
  return *children()[i].second;
}

Config Sequential::config() const {
  Config c = Config::object();
  if (input_shape()) c.set("input_shape", input_shape()->dims());
  Config layers = Config::list();
  for (const auto& [path, layer] : children()) layers.push(layer_config(*layer));
  return c.set("layers", std::move(layers));
}

std::shared_ptr<Sequential> Sequential::from_config(const ConfigReader& c) {
  auto model = std::make_shared<Sequential>();
  const ConfigReader layers = c.at("layers");
  if (layers.value().kind() != Config::Kind::list || layers.size() == 0) layers.bad("a non-empty list of layers");
  for (size_t i = 0; i < layers.size(); ++i) model->add_layer(layer_from_config(layers.element(i)));
  if (c.has("input_shape")) {
    const Shape shape(c.integers("input_shape", 1));
    model->build(shape);
  }
  return model;
}

}  // namespace axon
