// Trains the 784-256-128-10 relu MLP on Fashion-MNIST (glorot-uniform weights, zero
// biases, Adam 1e-3, batch 128, shuffled) and prints one line of figures:
//   axon threads=2 epoch_seconds=[...] median=... test_accuracy=... peak_rss_mb=...
// Usage: bench_mlp [epochs] [seed]   (AXON_NUM_THREADS sets the threads)
#include <cstdio>
#include <cstdlib>

#include "axon/axon.h"
#include "epoch_timer.h"

using namespace axon;

int main(int argc, char** argv) {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 3;
  const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
  const auto data = datasets::fashion_mnist();
  manual_seed(seed);
  Sequential model(Shape{784});
  model.add(Dense(256, "relu"));
  model.add(Dense(128, "relu"));
  model.add(Dense(10, "softmax"));
  model.compile(Adam(1e-3), "sparse_categorical_crossentropy", {"accuracy"});

  auto timer = std::make_shared<bench::EpochTimer>();
  model.fit(data.x_train, data.y_train,
            {.epochs = epochs, .batch_size = 128, .callbacks = {timer}, .verbose = 0, .seed = seed});
  const double accuracy = model.evaluate(data.x_test, data.y_test, 1000).at("accuracy");
  bench::print_epochs(*timer);
  std::printf(" test_accuracy=%.4f peak_rss_mb=%.0f\n", accuracy, bench::peak_rss_mb());
}
