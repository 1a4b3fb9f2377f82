// Fashion-MNIST with a 784-256-128-10 MLP: Adam 1e-3, batch 128, 10 epochs, 10 %
// held out for validation; then test accuracy, a confusion matrix and a per-class
// report. Data: the Debian package dataset-fashion-mnist.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "axon/axon.h"

using namespace axon;

int main(int argc, char** argv) {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 10;
  const auto data = datasets::fashion_mnist();
  std::printf("Fashion-MNIST: train %s, test %s\n", data.x_train.shape().str().c_str(),
              data.x_test.shape().str().c_str());

  manual_seed(42);
  Sequential model(Shape{784});
  model.add(Dense(256, "relu"));
  model.add(Dense(128, "relu"));
  model.add(Dense(10, "softmax"));
  model.compile(Adam(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  model.summary(std::cout);

  const auto start = std::chrono::steady_clock::now();
  model.fit(data.x_train, data.y_train, {.epochs = epochs, .batch_size = 128, .validation_split = 0.1, .seed = 1});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const Logs test = model.evaluate(data.x_test, data.y_test, 1024);
  std::printf("\ntest: %s  (training %.1f s, %.2f s/epoch)\n\n", test.str().c_str(), seconds, seconds / epochs);

  ConfusionMatrix confusion(10);
  confusion.update(model.predict(data.x_test, 1024), data.y_test);
  std::cout << confusion.str(datasets::fashion_mnist_class_names()) << "\n"
            << classification_report(confusion, datasets::fashion_mnist_class_names());
}
