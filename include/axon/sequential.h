#pragma once
// Sequential: a Model that applies its layers in order.
//   Sequential model;
//   model.add(Dense(256, "relu"));
//   model.add(Dropout(0.2));
//   model.add(Dense(10, "softmax"));
#include "axon/model.h"

namespace axon {

class Sequential : public Model {
 public:
  Sequential() = default;
  // With the input shape (without the batch axis), the model can be summarised and
  // compiled before it sees data.
  explicit Sequential(const Shape& input_shape) { set_input_shape(input_shape); }

  using Model::add;
  using Model::add_layer;
  Variable call(const Variable& x) override;
  std::string type_name() const override { return "Sequential"; }
  size_t size() const { return children().size(); }
  Module& layer(size_t i) const;
};

}  // namespace axon
