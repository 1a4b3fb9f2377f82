#include "axon/functional.h"

#include <map>
#include <set>
#include <typeinfo>

#include "axon/model_spec.h"
#include "axon/registry.h"
#include "graph.h"

namespace axon {

AXON_REGISTER(Module, "functional", Functional);

SymbolicTensor::SymbolicTensor(std::shared_ptr<detail::GraphNode> node, size_t index)
    : node_(std::move(node)), index_(index) {
  if (!node_) fail("SymbolicTensor: no node");
}

const Shape& SymbolicTensor::shape() const { return node_->output_shapes.at(index_); }

SymbolicTensors::operator SymbolicTensor() const {
  if (size() != 1) fail("a layer call with ", size(), " outputs used as one tensor; index it ([0], [1], ...)");
  return front();
}

SymbolicTensor Input(const Shape& shape, const std::string& name) {
  for (int64_t d : shape.dims())
    if (d < 1) fail("Input: dimensions must be >= 1, got ", shape);
  auto node = std::make_shared<detail::GraphNode>();
  node->output_shapes = {shape};
  node->input_name = name;
  return {node, 0};
}

namespace detail {

SymbolicTensors call_symbolic(std::shared_ptr<Module> layer, const std::vector<SymbolicTensor>& inputs) {
  if (inputs.empty()) fail(layer->type_name(), ": called on no inputs");
  // One zero example through the layer builds its weights and gives its output shapes.
  std::vector<Variable> zeros;
  for (const SymbolicTensor& input : inputs) {
    std::vector<int64_t> dims = input.shape().dims();
    dims.insert(dims.begin(), 1);
    zeros.emplace_back(Tensor::zeros(Shape(dims)));
  }
  const bool was_training = layer->training();
  std::vector<Variable> outputs;
  {
    NoGrad no_grad;
    layer->eval();
    try {
      outputs = (*layer)(zeros);  // one input may give several outputs (return_state)
    } catch (...) {
      layer->train(was_training);
      throw;
    }
    layer->train(was_training);
  }
  auto node = std::make_shared<GraphNode>();
  node->layer = std::move(layer);
  node->inputs = inputs;
  for (const Variable& y : outputs)
    node->output_shapes.emplace_back(std::vector<int64_t>(y.shape().dims().begin() + 1, y.shape().dims().end()));
  SymbolicTensors result;
  for (size_t k = 0; k < outputs.size(); ++k) result.emplace_back(node, k);
  return result;
}

}  // namespace detail

Functional::Functional(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs)
    : graph_(std::make_unique<detail::Graph>(std::move(inputs), std::move(outputs))) {
  for (const auto& layer : graph_->layers()) add_layer(layer);
  set_input_shape(graph_->inputs().front().shape());
  mark_built();
}

Functional::~Functional() = default;

Variable Functional::call(const Variable& x) {
  std::vector<Variable> outputs = graph_->run({x});
  if (outputs.size() != 1) fail("Functional: the model has ", outputs.size(), " outputs; call it with a list");
  return outputs[0];
}

std::vector<Variable> Functional::forward_many(const std::vector<Variable>& inputs) { return graph_->run(inputs); }

const detail::Graph* Functional::inference_graph(const std::vector<Tensor>&) {
  return typeid(*this) == typeid(Functional) ? graph_.get() : nullptr;  // a subclass runs its own code
}

std::vector<Shape> Functional::input_shapes() const {
  std::vector<Shape> shapes;
  for (const SymbolicTensor& input : graph_->inputs()) shapes.push_back(input.shape());
  return shapes;
}

size_t Functional::input_count() const { return graph_->inputs().size(); }
size_t Functional::output_count() const { return graph_->outputs().size(); }

std::vector<std::string> Functional::input_names() const {
  std::vector<std::string> names;
  for (const SymbolicTensor& input : graph_->inputs()) names.push_back(input.node()->input_name);
  return names;
}

std::vector<std::string> Functional::output_names() const {
  std::vector<std::string> names;
  for (const SymbolicTensor& output : graph_->outputs()) names.push_back(graph_->tensor_name(output));
  return names;
}

void Functional::summary_rows(std::vector<SummaryRow>& rows) const {
  for (const SymbolicTensor& input : graph_->inputs())
    rows.push_back({input.node()->input_name + " (InputLayer)", shape_text({input.shape()}), 0, "-"});
  for (const detail::Graph::Call& call : graph_->calls()) {
    std::string connected;
    for (const SymbolicTensor& input : call.node->inputs)
      connected += (connected.empty() ? "" : ", ") + graph_->tensor_name(input);
    const bool first_call = call.name == call.node->layer->name();
    rows.push_back({call.name + " (" + call.node->layer->type_name() + ")", shape_text(call.node->output_shapes),
                    first_call ? call.node->layer->parameter_count() : 0, connected});
  }
}

// {"inputs": [{"name", "shape"}], "layers": [layer configs with "name"],
//  "nodes": [{"layer": name, "inputs": [tensor names]}], "outputs": [tensor names]}
Config Functional::config() const {
  Config inputs = Config::list(), layers = Config::list(), nodes = Config::list(), outputs = Config::list();
  for (const SymbolicTensor& input : graph_->inputs())
    inputs.push(Config::object().set("name", input.node()->input_name).set("shape", input.shape().dims()));
  for (const auto& layer : graph_->layers()) layers.push(layer_config(*layer));
  for (const detail::Graph::Call& call : graph_->calls()) {
    Config reads = Config::list();
    for (const SymbolicTensor& input : call.node->inputs) reads.push(graph_->tensor_name(input));
    nodes.push(Config::object().set("layer", call.node->layer->name()).set("inputs", std::move(reads)));
  }
  for (const SymbolicTensor& output : graph_->outputs()) outputs.push(graph_->tensor_name(output));
  return Config::object()
      .set("inputs", std::move(inputs))
      .set("layers", std::move(layers))
      .set("nodes", std::move(nodes))
      .set("outputs", std::move(outputs));
}

std::shared_ptr<Module> Functional::from_config(const ConfigReader& c) {
  std::map<std::string, SymbolicTensor> tensors;
  auto tensor = [&](const ConfigReader& f) {
    const auto it = tensors.find(f.as_string());
    if (it == tensors.end()) f.bad("the name of an input or of an earlier node's output");
    return it->second;
  };
  std::vector<SymbolicTensor> inputs, outputs;
  const ConfigReader input_list = c.at("inputs");
  for (size_t i = 0; i < input_list.size(); ++i) {
    const ConfigReader f = input_list.element(i);
    const std::string name = f.string("name");
    const SymbolicTensor input = f.named([&] { return Input(Shape(f.integers("shape", 1)), name); });
    f.reject_unknown();
    if (!tensors.emplace(name, input).second) f.at("name").bad("a name not used before");
    inputs.push_back(input);
  }
  std::map<std::string, std::shared_ptr<Module>> layers;
  const ConfigReader layer_list = c.at("layers");
  for (size_t i = 0; i < layer_list.size(); ++i) {
    const ConfigReader f = layer_list.element(i);
    std::shared_ptr<Module> layer = layer_from_config(f);
    if (layer->name().empty()) f.at("name").bad("a layer name");
    if (!layers.emplace(layer->name(), layer).second) f.at("name").bad("a name not used before");
  }
  std::map<std::string, int> calls;
  const ConfigReader node_list = c.at("nodes");
  for (size_t i = 0; i < node_list.size(); ++i) {
    const ConfigReader f = node_list.element(i);
    const std::string name = f.string("layer");
    const auto layer = layers.find(name);
    if (layer == layers.end()) f.at("layer").bad("the name of a layer in \"layers\"");
    std::vector<SymbolicTensor> reads;
    const ConfigReader read_list = f.at("inputs");
    for (size_t k = 0; k < read_list.size(); ++k) reads.push_back(tensor(read_list.element(k)));
    f.reject_unknown();
    const SymbolicTensors made = f.named([&] { return detail::call_symbolic(layer->second, reads); });
    const int k = calls[name]++;
    const std::string call_name = k == 0 ? name : name + "@" + std::to_string(k);
    for (size_t j = 0; j < made.size(); ++j)
      tensors.emplace(j == 0 ? call_name : call_name + ":" + std::to_string(j), made[j]);
  }
  const ConfigReader output_list = c.at("outputs");
  for (size_t i = 0; i < output_list.size(); ++i) outputs.push_back(tensor(output_list.element(i)));
  return c.named([&] { return std::make_shared<Functional>(inputs, outputs); });
}

}  // namespace axon
