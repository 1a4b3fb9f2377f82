// Fashion-MNIST with a small CNN, as the dataset's benchmark table ("2 Conv+pooling"):
//   conv32(3x3, same)-relu-maxpool2 -> conv64(3x3, same)-relu-maxpool2 -> dense128-relu -> dense10,
// Adam 1e-3, batch 128, 10% of the training set held out for validation. The "bn"
// variant ("2 Conv+pooling+BN") adds batch normalisation after each convolution and
// dropout after dense128, trains on randomly mirrored images, and lets the learning
// rate follow a cosine from 1e-3 down to 5e-5.
// Usage: fashion_cnn [epochs] [plain|bn]    (the same models: examples/fashion_cnn*.json)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "axon/axon.h"

using namespace axon;

int main(int argc, char** argv) {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 10;
  const std::string variant = argc > 2 ? argv[2] : "plain";
  if (epochs < 1 || (variant != "plain" && variant != "bn")) {
    std::fprintf(stderr, "usage: fashion_cnn [epochs >= 1] [plain|bn]\n");
    return 2;
  }
  const auto data = datasets::fashion_mnist();
  const Tensor x_train = data.x_train.reshape({-1, 1, 28, 28}), x_test = data.x_test.reshape({-1, 1, 28, 28});

  manual_seed(42);
  Sequential model(Shape{1, 28, 28});
  FitOptions fit{.epochs = epochs, .batch_size = 128, .validation_split = 0.1, .seed = 1};
  if (variant == "plain") {
    model.add(Conv2D(32, {3, 3}, "relu", {.padding = "same"}));
    model.add(MaxPool2D());
    model.add(Conv2D(64, {3, 3}, "relu", {.padding = "same"}));
    model.add(MaxPool2D());
    model.add(Flatten());
    model.add(Dense(128, "relu"));
  } else {
    for (int64_t filters : {32, 64}) {
      model.add(Conv2D(filters, 3, "linear", {.padding = "same"}, {.use_bias = false}));  // BN's beta is the bias
      model.add(BatchNormalization());
      model.add(Activation("relu"));
      model.add(MaxPool2D());
    }
    model.add(Flatten());
    model.add(Dense(128, "relu"));
    model.add(Dropout(0.25));
    fit.augment = {std::make_shared<RandomFlip>("horizontal")};
    fit.callbacks = {std::make_shared<LearningRateScheduler>(cosine_decay(1e-3, epochs, 0.05))};
  }
  model.add(Dense(10, "softmax"));
  model.compile(Adam(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  model.summary(std::cout);

  const auto start = std::chrono::steady_clock::now();
  model.fit(x_train, data.y_train, fit);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Logs test = model.evaluate(x_test, data.y_test, 500);
  std::printf("\ntest: %s  (training %.1f s, %.1f s/epoch)\n", test.str().c_str(), seconds, seconds / epochs);
}
