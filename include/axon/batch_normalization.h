#pragma once
// BatchNormalization over the channel axis (axis 1: (N, C) or (N, C, H, W)), as Keras:
// in training, normalise with the batch's mean and (biased) variance and update the
// moving statistics, moving = momentum * moving + (1 - momentum) * batch; in inference,
// normalise with the moving statistics. y = gamma * (x - mean) / sqrt(var + epsilon) + beta.
// The moving statistics are non-trainable parameters, so model files keep them.
// synchronized (Keras's name): in data-parallel training (data_parallel.h) the batch
// statistics are those of every rank's batch together, as one process would see the
// global batch; without data parallelism it changes nothing.
#include <memory>

#include "axon/module.h"

namespace axon {

class BatchNormalization : public Module {
 public:
  explicit BatchNormalization(double momentum = 0.99, double epsilon = 1e-3, bool synchronized = false);

  Variable forward(const Variable& x) override;
  bool propagates_mask() const override { return true; }
  std::string type_name() const override { return "BatchNormalization"; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  Config config() const override;
  static std::shared_ptr<BatchNormalization> from_config(const ConfigReader& config);
  double momentum() const { return momentum_; }
  double epsilon() const { return epsilon_; }
  bool synchronized() const { return synchronized_; }

 protected:
  void create_weights(const Shape& input_shape) override;

 private:
  double momentum_, epsilon_;
  bool synchronized_;
  Variable gamma_, beta_, moving_mean_, moving_variance_;
};

}  // namespace axon
