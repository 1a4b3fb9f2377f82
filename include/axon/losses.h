#pragma once
// Losses: functions of (prediction, target) returning the mean over the batch as a
// scalar Variable. A target may be (batch,) for a (batch, 1) prediction.
#include <functional>
#include <string>

#include "axon/variable.h"

namespace axon {

Variable mean_squared_error(const Variable& prediction, const Tensor& target);
Variable mean_absolute_error(const Variable& prediction, const Tensor& target);
// 0.5 e^2 where |e| <= delta, else delta * (|e| - 0.5 delta).
Variable huber(const Variable& prediction, const Tensor& target, double delta = 1.0);
// target in [0, 1]; prediction is a probability (clipped to [1e-7, 1 - 1e-7], as Keras)
// or, with from_logits, a logit (computed stably for any magnitude).
Variable binary_crossentropy(const Variable& prediction, const Tensor& target, bool from_logits = false);
// target: one-hot or soft labels (batch, classes).
Variable categorical_crossentropy(const Variable& prediction, const Tensor& target, bool from_logits = false);
// target: class indices (batch,).
Variable sparse_categorical_crossentropy(const Variable& prediction, const Tensor& target, bool from_logits = false);

using LossFn = std::function<Variable(const Variable& prediction, const Tensor& target)>;

// A built-in loss (by name, as loss() below) with sample weights (batch,), as Keras:
// each example's loss (its mean over its own elements) times its weight, averaged over
// the batch (sum_i w_i l_i / batch, not / sum_i w_i).
Variable weighted_loss(const std::string& name, bool from_logits, const Variable& prediction, const Tensor& target,
                       const Tensor& sample_weight);
// Keras's names and aliases: "mse", "mean_squared_error", "mae", "huber",
// "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy".
LossFn loss(const std::string& name, bool from_logits = false);

// Fails, saying what was expected, when targets of `targets` shape (with the batch
// axis) cannot suit the loss `name` for outputs of `output` shape (without it): e.g.
// one-hot labels given to sparse_categorical_crossentropy. fit checks this first.
void check_loss_targets(const std::string& name, const Shape& output, const Shape& targets);

}  // namespace axon
