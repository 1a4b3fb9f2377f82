#include "axon/batch_normalization.h"

#include <cmath>

#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"
#include "distributed/replica.h"

namespace axon {

AXON_REGISTER(Module, "batch_normalization", BatchNormalization);

std::shared_ptr<BatchNormalization> BatchNormalization::from_config(const ConfigReader& c) {
  return std::make_shared<BatchNormalization>(c.number_or("momentum", 0.99, 0, 1, true),
                                              c.number_or("epsilon", 1e-3, 1e-12, 1),
                                              c.boolean_or("synchronized", false));
}

Config BatchNormalization::config() const {
  Config c = Config::object().set("momentum", momentum_).set("epsilon", epsilon_);
  if (synchronized_) c.set("synchronized", true);
  return c;
}

BatchNormalization::BatchNormalization(double momentum, double epsilon, bool synchronized)
    : momentum_(momentum), epsilon_(epsilon), synchronized_(synchronized) {
  if (!(momentum >= 0 && momentum < 1)) fail("BatchNormalization: momentum must be in [0, 1), got ", momentum);
  if (!(epsilon > 0) || !std::isfinite(epsilon)) fail("BatchNormalization: epsilon must be > 0, got ", epsilon);
}

void BatchNormalization::create_weights(const Shape& input_shape) {
  if (input_shape.rank() < 2) fail("BatchNormalization: input must be (batch, channels, ...), got ", input_shape);
  const Shape channels{input_shape[1]};
  gamma_ = add_weight("gamma", Tensor::ones(channels));
  beta_ = add_weight("beta", Tensor::zeros(channels));
  moving_mean_ = add_weight("moving_mean", Tensor::zeros(channels), false);
  moving_variance_ = add_weight("moving_variance", Tensor::ones(channels), false);
}

Variable BatchNormalization::forward(const Variable& x) {
  const int64_t channels = gamma_.dim(0);
  if (x.rank() < 2 || x.dim(1) != channels)
    fail("BatchNormalization: input ", x.shape(), " does not have the ", channels,
         " channels on axis 1 it was built for");
  if (!training()) return batch_norm(x, gamma_, beta_, moving_mean_.value(), moving_variance_.value(), epsilon_);
  if (x.numel() / channels < 2)
    fail("BatchNormalization: training needs more than one value per channel, got ", x.shape());
  BatchStatistics batch;
  Communicator* across = synchronized_ ? detail::replica_communicator() : nullptr;
  const Variable y = batch_norm(x, gamma_, beta_, Tensor(), Tensor(), epsilon_, &batch, across);
  // moving = momentum * moving + (1 - momentum) * batch
  for (auto [moving, value] : {std::pair{moving_mean_, batch.mean}, std::pair{moving_variance_, batch.variance}}) {
    float* m = moving.value().data<float>();
    const Tensor b = value.to(DType::f32);
    for (int64_t c = 0; c < channels; ++c)
      m[c] = static_cast<float>(momentum_ * m[c] + (1 - momentum_) * b.data<float>()[c]);
  }
  return y;
}

std::vector<std::string> BatchNormalization::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                         const std::vector<Shape>& shapes) const {
  if (shapes[0].rank() != 1 && shapes[0].rank() != 3)
    fail("save_onnx: '", name(), "' (BatchNormalization) normalizes ", Shape(shapes[0]),
         " examples; ONNX's normalizes (batch, channels) or (batch, channels, height, width)");
  return {graph.op("BatchNormalization",
                   {inputs[0], graph.weight(gamma_), graph.weight(beta_), graph.weight(moving_mean_),
                    graph.weight(moving_variance_)},
                   {{"epsilon", epsilon_}})};
}

}  // namespace axon
