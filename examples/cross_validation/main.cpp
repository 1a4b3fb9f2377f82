// 5-fold stratified cross-validation of a small MLP on a 6,000-image subset of
// Fashion-MNIST: per-fold accuracy, then mean and standard deviation.
#include <cstdio>

#include "axon/axon.h"

using namespace axon;

int main() {
  const auto data = datasets::fashion_mnist();
  const Tensor x = data.x_train.rows(0, 6000), y = data.y_train.rows(0, 6000);

  auto make_model = [] {
    auto model = std::make_unique<Sequential>(Shape{784});
    model->add(Dense(64, "relu"));
    model->add(Dense(10, "softmax"));
    model->compile(Adam(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
    return model;
  };
  manual_seed(5);
  const CrossValidationResult result =
      cross_validate(make_model, x, y,
                     {.folds = 5, .stratified = true, .seed = 5, .fit = {.epochs = 5, .batch_size = 64, .verbose = 0}});
  for (size_t i = 0; i < result.folds.size(); ++i) std::printf("fold %zu: %s\n", i + 1, result.folds[i].str().c_str());
  std::printf("accuracy: %.4f +- %.4f\n", result.mean.at("accuracy"), result.std.at("accuracy"));
}
