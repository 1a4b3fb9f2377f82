// Fashion-MNIST with a small CNN: conv32(3x3, same)-relu-maxpool2 -> conv64(3x3,
// same)-relu-maxpool2 -> dense128-relu -> dense10, Adam 1e-3, batch 128.
// Usage: fashion_cnn [epochs]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "axon/axon.h"

using namespace axon;

int main(int argc, char** argv) {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 10;
  const auto data = datasets::fashion_mnist();
  const Tensor x_train = data.x_train.reshape({-1, 1, 28, 28}), x_test = data.x_test.reshape({-1, 1, 28, 28});

  manual_seed(42);
  Sequential model(Shape{1, 28, 28});
  model.add(Conv2D(32, {3, 3}, "relu", {.padding = "same"}));
  model.add(MaxPool2D());
  model.add(Conv2D(64, {3, 3}, "relu", {.padding = "same"}));
  model.add(MaxPool2D());
  model.add(Flatten());
  model.add(Dense(128, "relu"));
  model.add(Dense(10, "softmax"));
  model.compile(Adam(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  model.summary(std::cout);

  const auto start = std::chrono::steady_clock::now();
  model.fit(x_train, data.y_train, {.epochs = epochs, .batch_size = 128, .validation_split = 0.1, .seed = 1});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Logs test = model.evaluate(x_test, data.y_test, 500);
  std::printf("\ntest: %s  (training %.1f s, %.1f s/epoch)\n", test.str().c_str(), seconds, seconds / epochs);
}
