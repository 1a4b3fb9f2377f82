#pragma once
// Functional models (Keras's functional API): call layers on symbolic tensors to record
// a directed acyclic graph, then make a model of it.
//
//   SymbolicTensor a = Input(Shape{16}, "a"), b = Input(Shape{8}, "b");
//   auto shared = std::make_shared<Dense>(16, "relu");      // called twice: one set of weights
//   SymbolicTensor h = Add()({(*shared)(a), (*shared)(Dense(16)(b))});
//   SymbolicTensor residual = Add()({h, Dense(16)(Dense(16, "relu")(h))});
//   Functional model({a, b}, {Dense(3, "softmax")(residual), Dense(1)(h)});
//   model.compile("adam", std::vector<LossSpec>{"sparse_categorical_crossentropy", "mse"});
//   model.fit({xa, xb}, {labels, targets}, {.epochs = 5});
//
// Each call runs the layer once on a zero example, which builds its weights and gives
// the output shapes, so shape errors surface where the graph is written.
#include <memory>
#include <string>
#include <vector>

#include "axon/model.h"

namespace axon {

namespace detail {
struct GraphNode;
}

// One output of a layer call (or a model input) in a graph being recorded.
class SymbolicTensor {
 public:
  SymbolicTensor(std::shared_ptr<detail::GraphNode> node, size_t index);
  const Shape& shape() const;  // of one example: no batch axis
  const std::shared_ptr<detail::GraphNode>& node() const { return node_; }
  size_t index() const { return index_; }

 private:
  std::shared_ptr<detail::GraphNode> node_;
  size_t index_;
};

// The outputs of one call; converts to a SymbolicTensor when there is exactly one.
class SymbolicTensors : public std::vector<SymbolicTensor> {
 public:
  using std::vector<SymbolicTensor>::vector;
  operator SymbolicTensor() const;
};

// A model input: one example of `shape` (no batch axis). Unnamed inputs are named
// "input", "input_1", ... by the model.
SymbolicTensor Input(const Shape& shape, const std::string& name = "");

namespace detail {

// A layer call or a model input.
struct GraphNode {
  std::shared_ptr<Module> layer;  // null for an input
  std::vector<SymbolicTensor> inputs;
  std::vector<Shape> output_shapes;
  std::string input_name;  // for an input
};

// Records layer(inputs) as a node, running the layer once on zeros for the output shapes.
SymbolicTensors call_symbolic(std::shared_ptr<Module> layer, const std::vector<SymbolicTensor>& inputs);

class Graph;

}  // namespace detail

class Functional : public Model {
 public:
  Functional(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs);
  ~Functional() override;

  Variable call(const Variable& x) override;
  std::vector<Variable> forward_many(const std::vector<Variable>& inputs) override;
  std::string type_name() const override { return "Functional"; }
  Config config() const override;
  static std::shared_ptr<Module> from_config(const ConfigReader& config);

  std::vector<std::string> input_names() const override;
  std::vector<std::string> output_names() const override;
  std::vector<Shape> input_shapes() const override;
  size_t input_count() const override;
  size_t output_count() const override;

 protected:
  void summary_rows(std::vector<SummaryRow>& rows) const override;
  const detail::Graph* inference_graph(const std::vector<Tensor>& x) override;

 private:
  std::unique_ptr<detail::Graph> graph_;
};

}  // namespace axon
