#pragma once
// k-fold cross-validation: a fresh model per fold from a factory, trained on k-1 folds
// and evaluated on the held-out one.
#include <functional>
#include <memory>
#include <vector>

#include "axon/model.h"

namespace axon {

struct CrossValidationOptions {
  int64_t folds = 5;
  bool stratified = true;  // keep class proportions in every fold (y holds class indices)
  uint64_t seed = 0;       // fold assignment
  FitOptions fit;          // for each fold's training (validation options are ignored)
};

struct CrossValidationResult {
  std::vector<Logs> folds;  // evaluate() logs of each held-out fold
  Logs mean;                // per key, over folds
  Logs std;                 // population standard deviation, as sklearn's cross_val_score().std()
};

// `make_model` returns a new, compiled model each time it is called.
CrossValidationResult cross_validate(const std::function<std::unique_ptr<Model>()>& make_model, const Tensor& x,
                                     const Tensor& y, const CrossValidationOptions& options = {});

}  // namespace axon
