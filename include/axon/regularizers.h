#pragma once
// Weight penalties added to the training loss, as Keras's kernel_regularizer /
// bias_regularizer: l1 * sum(|w|) + l2 * sum(w^2).
#include "axon/config.h"
#include "axon/variable.h"

namespace axon {

struct Regularizer {
  double l1 = 0.0;
  double l2 = 0.0;

  bool active() const { return l1 != 0.0 || l2 != 0.0; }
  Variable operator()(const Variable& weight) const;  // scalar penalty
  // {"l1": .., "l2": ..}, or null when inactive; read back by from_config.
  Config config() const;
  static Regularizer from_config(const ConfigReader& config);
};

Regularizer L1(double l1 = 0.01);
Regularizer L2(double l2 = 0.01);
Regularizer L1L2(double l1 = 0.01, double l2 = 0.01);

}  // namespace axon
