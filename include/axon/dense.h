#pragma once
// Dense: y = activation(x @ kernel + bias), kernel (in, units), bias (units,).
// `in` is taken from the last axis of the first input.
#include <cstdint>
#include <optional>
#include <string>

#include "axon/activations.h"
#include "axon/initializers.h"

namespace axon {

struct DenseOptions {
  bool use_bias = true;
  Initializer kernel_initializer = Initializer::Kind::glorot_uniform;
  Initializer bias_initializer = Initializer::Kind::zeros;
  Regularizer kernel_regularizer = {};
  Regularizer bias_regularizer = {};
  std::optional<uint64_t> seed;  // else draws from global_generator()
};

class Dense : public Module {
 public:
  explicit Dense(int64_t units, const std::string& activation = "linear", DenseOptions options = {});

  Variable forward(const Variable& x) override;
  std::string type_name() const override { return "Dense"; }

  int64_t units() const { return units_; }
  const std::string& activation_name() const { return activation_name_; }
  const DenseOptions& options() const { return options_; }
  const Variable& kernel() const { return kernel_; }
  const Variable& bias() const { return bias_; }

 protected:
  void create_weights(const Shape& input_shape) override;

 private:
  int64_t units_;
  std::string activation_name_;
  ActivationFn activation_;
  DenseOptions options_;
  Variable kernel_, bias_;
};

}  // namespace axon
