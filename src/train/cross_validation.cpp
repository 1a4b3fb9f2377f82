#include "axon/cross_validation.h"

#include <cmath>

#include "axon/splits.h"

namespace axon {

CrossValidationResult cross_validate(const std::function<std::unique_ptr<Model>()>& make_model, const Tensor& x,
                                     const Tensor& y, const CrossValidationOptions& options) {
  if (!make_model) fail("cross_validate: no model factory given");
  if (!x.defined() || !y.defined() || x.rank() < 1 || y.rank() < 1 || x.dim(0) != y.dim(0))
    fail("cross_validate: x and y need the same number of examples, got ", x.shape(), " and ", y.shape());
  const std::vector<Fold> folds = options.stratified ? stratified_k_fold(y, options.folds, options.seed)
                                                     : k_fold(x.dim(0), options.folds, true, options.seed);
  FitOptions fit = options.fit;
  fit.validation_split = 0.0;
  fit.validation_data.reset();

  CrossValidationResult result;
  for (const Fold& fold : folds) {
    std::unique_ptr<Model> model = make_model();
    if (!model || !model->compiled()) fail("cross_validate: the factory must return a compiled model");
    model->fit(take_rows(x, fold.train), take_rows(y, fold.train), fit);
    result.folds.push_back(model->evaluate(take_rows(x, fold.test), take_rows(y, fold.test), fit.batch_size));
  }
  for (const auto& [key, unused] : result.folds.front().items()) {
    double sum = 0, squares = 0;
    for (const Logs& logs : result.folds) sum += logs.at(key);
    const double mean = sum / static_cast<double>(result.folds.size());
    for (const Logs& logs : result.folds) squares += (logs.at(key) - mean) * (logs.at(key) - mean);
    result.mean.set(key, mean);
    result.std.set(key, std::sqrt(squares / static_cast<double>(result.folds.size())));
  }
  return result;
}

}  // namespace axon
