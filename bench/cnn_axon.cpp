// Trains the Fashion-MNIST CNN of examples/fashion_cnn (conv32-relu-maxpool ->
// conv64-relu-maxpool -> dense128-relu -> dense10; glorot-uniform kernels, zero biases,
// Adam 1e-3, batch 128, shuffled), then times inference, and prints one line:
//   axon threads=2 epoch_seconds=[...] median=... test_accuracy=...
//        infer1_images_per_s=... infer256_images_per_s=... peak_rss_mb=...
// Usage: bench_cnn [epochs] [seed] [train_images]   (AXON_NUM_THREADS sets the threads)
// With train_images < 60000 it trains on a prefix and skips the inference timing: a
// quick run to profile training.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "axon/axon.h"
#include "epoch_timer.h"

using namespace axon;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Images per second of predict() at `batch`, the median of 5 timed passes over `images`.
double inference_rate(Sequential& model, const Tensor& x, int64_t batch, int64_t images) {
  const Tensor subset = x.rows(0, images);
  model.predict(subset.rows(0, batch), batch);  // warm up
  std::vector<double> rates;
  for (int pass = 0; pass < 5; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    model.predict(subset, batch);
    rates.push_back(static_cast<double>(images) / seconds_since(start));
  }
  std::sort(rates.begin(), rates.end());
  return rates[2];
}

}  // namespace

int main(int argc, char** argv) {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 3;
  const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
  const int64_t train_images = argc > 3 ? std::atoll(argv[3]) : 60000;
  const auto data = datasets::fashion_mnist();
  const Tensor x_train = data.x_train.reshape({-1, 1, 28, 28}).rows(0, train_images);
  const Tensor y_train = data.y_train.rows(0, train_images);
  const Tensor x_test = data.x_test.reshape({-1, 1, 28, 28});
  manual_seed(seed);
  Sequential model(Shape{1, 28, 28});
  model.add(Conv2D(32, {3, 3}, "relu", {.padding = "same"}));
  model.add(MaxPool2D());
  model.add(Conv2D(64, {3, 3}, "relu", {.padding = "same"}));
  model.add(MaxPool2D());
  model.add(Flatten());
  model.add(Dense(128, "relu"));
  model.add(Dense(10, "softmax"));
  model.compile(Adam(1e-3), "sparse_categorical_crossentropy", {"accuracy"});

  auto timer = std::make_shared<bench::EpochTimer>();
  model.fit(x_train, y_train, {.epochs = epochs, .batch_size = 128, .callbacks = {timer}, .verbose = 0, .seed = seed});
  const double accuracy = model.evaluate(x_test, data.y_test, 1000).at("accuracy");
  const bool profiling = train_images < 60000;
  const double infer1 = profiling ? 0 : inference_rate(model, x_test, 1, 2000),
               infer256 = profiling ? 0 : inference_rate(model, x_test, 256, 10000);
  bench::print_epochs(*timer);
  std::printf(" test_accuracy=%.4f infer1_images_per_s=%.0f infer256_images_per_s=%.0f peak_rss_mb=%.0f\n", accuracy,
              infer1, infer256, bench::peak_rss_mb());
}
