// The classic Keras tutorial flow: a model class composing two Dense layers in call(),
// compiled with names, fitted on random data, then used to predict.
#include <cstdio>
#include <iostream>

#include "axon/axon.h"

using namespace axon;

class MLP : public Model {
 public:
  MLP(int64_t hidden_units, int64_t output_units)
      : hidden_layer(add(Dense(hidden_units, "relu"))), output_layer(add(Dense(output_units, "softmax"))) {}

  Variable call(const Variable& inputs) override { return output_layer(hidden_layer(inputs)); }

 private:
  Dense& hidden_layer;
  Dense& output_layer;
};

int main() {
  manual_seed(0);
  Generator gen(0);
  const Tensor x = gen.uniform({100, 10}, 0, 1);  // random inputs
  Tensor y = Tensor::empty({100});                // integer labels in [0, 10)
  for (int64_t i = 0; i < 100; ++i) y.data<float>()[i] = static_cast<float>(gen.below(10));

  MLP model(10, 10);
  model.compile("sgd", "sparse_categorical_crossentropy", {"accuracy"});
  const History history = model.fit(x, y, {.epochs = 10, .batch_size = 32});
  model.summary(std::cout);

  const Tensor predictions = model.predict(x);
  std::printf("predictions: %s, first row sums to %.4f\n", predictions.shape().str().c_str(), [&] {
    double s = 0;
    for (int64_t j = 0; j < 10; ++j) s += predictions.at({0, j});
    return s;
  }());
  std::printf("loss %.4f -> %.4f over %zu epochs\n", history.at("loss").front(), history.at("loss").back(),
              history.logs.size());
}
