#pragma once
// Sequential: a Model that applies its layers in order.
//   Sequential model(Shape{784});
//   model.add(Dense(256, "relu"));
//   model.add(Dropout(0.2));
//   model.add(Dense(10, "softmax"));
// It runs as the one-path case of a functional graph, planned when it first sees its
// input shape (see functional.h).
#include <memory>

#include "axon/model.h"

namespace axon {

namespace detail {
class Graph;
}

class Sequential : public Model {
 public:
  Sequential();
  // With the input shape (without the batch axis), the model can be summarised and
  // compiled before it sees data.
  explicit Sequential(const Shape& input_shape);
  ~Sequential() override;
  Sequential(Sequential&&) noexcept;

  using Model::add;
  using Model::add_layer;
  Variable call(const Variable& x) override;
  std::string type_name() const override { return "Sequential"; }
  // {"input_shape": [...], "layers": [layer configs]}
  Config config() const override;
  static std::shared_ptr<Sequential> from_config(const ConfigReader& config);
  size_t size() const { return children().size(); }
  Module& layer(size_t i) const;

 protected:
  const detail::Graph* inference_graph(const std::vector<Tensor>& x) override;

 private:
  // The graph of the layers over inputs of this example shape (without the batch axis),
  // planned again when the shape or the layers change.
  detail::Graph& graph_for(const Shape& example);
  std::unique_ptr<detail::Graph> graph_;
  Shape planned_for_;  // the example shape graph_ was planned for
  size_t planned_layers_ = 0;
};

}  // namespace axon
