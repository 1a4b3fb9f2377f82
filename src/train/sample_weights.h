#pragma once
// The per-example weights fit and evaluate train and score with: Keras's sample_weight,
// or class_weight looked up by each example's class.
#include <vector>

#include "axon/model.h"

namespace axon::detail {

// Sample weights for n examples: (n,) or (n, 1), each finite and >= 0 -> (n,) float32.
Tensor checked_weights(const char* what, const Tensor& weights, int64_t n);

// fit's weights: sample_weight, or class_weight by each example's class (an index, or
// the argmax of a one-hot row; an unlisted class weighs 1); undefined for neither.
Tensor fit_weights(const FitOptions& options, const std::vector<Tensor>& y, int64_t n);

}  // namespace axon::detail
