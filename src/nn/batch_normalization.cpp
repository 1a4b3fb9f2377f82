#include "axon/batch_normalization.h"

#include <cmath>

#include "axon/ops.h"

namespace axon {

namespace {

// Mean over every axis but the channel axis 1, keeping them as size 1: (1, C, 1, ...).
Variable channel_mean(const Variable& x) {
  Variable m = x;
  for (int64_t axis = x.rank() - 1; axis >= 0; --axis)
    if (axis != 1) m = mean(m, axis, true);
  return m;
}

}  // namespace

BatchNormalization::BatchNormalization(double momentum, double epsilon) : momentum_(momentum), epsilon_(epsilon) {
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
    fail("BatchNormalization: input ", x.shape(), " does not have the ", channels, " channels on axis 1 it was built for");
  std::vector<int64_t> per_channel(static_cast<size_t>(x.rank()), 1);
  per_channel[1] = channels;  // (1, C, 1, ...) broadcasts against x
  Variable mu, variance;
  if (training()) {
    if (x.numel() / channels < 2) fail("BatchNormalization: training needs more than one value per channel, got ", x.shape());
    mu = channel_mean(x);
    variance = channel_mean(square(x - mu));
    NoGrad no_grad;  // moving = momentum * moving + (1 - momentum) * batch
    for (auto [moving, batch] : {std::pair{moving_mean_, mu}, std::pair{moving_variance_, variance}}) {
      float* m = moving.value().data<float>();
      const float* b = batch.value().data<float>();
      for (int64_t c = 0; c < channels; ++c) m[c] = static_cast<float>(momentum_ * m[c] + (1 - momentum_) * b[c]);
    }
  } else {
    mu = Variable(moving_mean_.value().reshape(per_channel));
    variance = Variable(moving_variance_.value().reshape(per_channel));
  }
  const Variable normalized = (x - mu) / sqrt(variance + epsilon_);
  return normalized * reshape(gamma_, per_channel) + reshape(beta_, per_channel);
}

}  // namespace axon
