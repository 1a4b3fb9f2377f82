// Data-parallel training under mpirun (or one process without it), two modes:
//
//   bench_distributed train mlp|cnn EPOCHS IMAGES
//     Trains the Fashion-MNIST MLP or CNN of examples/ on the first IMAGES training images
//     at a global batch of 128 (128 / ranks per rank), then scores the 10,000 test
//     images. Rank 0 prints one line:
//       axon threads=1 epoch_seconds=[...] median=... model=cnn ranks=2 images_per_s=... test_accuracy=...
//
//   bench_distributed allreduce
//     The CNN's gradient buckets summed over the ranks three ways: as a training step
//     sums them (GradientBuckets: the gradients copied into the buckets, then summed on
//     the communicator's thread), the same buckets' sums on that thread alone, and plain
//     MPI_Allreduce calls on buffers of the same sizes. Rank 0 prints the median time per
//     step and bus bandwidth, bytes * 2 (N - 1) / N / time (nccl-tests' busbw), of each.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "axon/axon.h"
#include "epoch_timer.h"
#include "train/gradient_buckets.h"

using namespace axon;

namespace {

std::shared_ptr<Sequential> fashion_model(const std::string& name) {
  manual_seed(0);
  auto model = std::make_shared<Sequential>(Shape{1, 28, 28});
  if (name == "cnn") {
    model->add(Conv2D(32, {3, 3}, "relu", {.padding = "same"}));
    model->add(MaxPool2D());
    model->add(Conv2D(64, {3, 3}, "relu", {.padding = "same"}));
    model->add(MaxPool2D());
    model->add(Flatten());
    model->add(Dense(128, "relu"));
  } else {
    model->add(Flatten());
    model->add(Dense(256, "relu"));
    model->add(Dense(128, "relu"));
  }
  model->add(Dense(10, "softmax"));
  model->compile(Adam(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  return model;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int train(const std::string& name, int epochs, int64_t images) {
  std::shared_ptr<Communicator> ranks = launched_by_mpirun() ? mpi_world() : nullptr;
  const int size = ranks ? ranks->size() : 1;
  const auto data = datasets::fashion_mnist();
  const Tensor x = data.x_train.reshape({-1, 1, 28, 28}).rows(0, images), y = data.y_train.rows(0, images);
  auto model = fashion_model(name);
  if (ranks) model->distribute({.communicator = ranks});
  auto timer = std::make_shared<bench::EpochTimer>();
  model->fit(x, y, {.epochs = epochs, .batch_size = 128 / size, .callbacks = {timer}, .verbose = 0});
  const double accuracy = model->evaluate(data.x_test.reshape({-1, 1, 28, 28}), data.y_test, 1000).at("accuracy");
  if (ranks && !ranks->chief()) return 0;
  bench::print_epochs(*timer);
  std::printf(" model=%s ranks=%d images_per_s=%.0f test_accuracy=%.4f\n", name.c_str(), size,
              static_cast<double>(images) / median(timer->seconds()), accuracy);
  return 0;
}

int allreduce() {
  std::shared_ptr<Communicator> ranks = mpi_world();
  auto model = fashion_model("cnn");
  // Real gradients in every parameter, from one backward pass.
  const auto data = datasets::fashion_mnist();
  Variable loss = mean(model->operator()(Variable(data.x_train.reshape({-1, 1, 28, 28}).rows(0, 64))));
  loss.backward();
  std::vector<Variable> parameters = model->trainable_parameters();
  std::vector<Tensor> gradients;
  for (const Variable& p : parameters) gradients.push_back(p.grad());
  detail::GradientBuckets buckets(parameters, *ranks, DataParallel{}.bucket_bytes);
  const std::vector<int64_t> sizes = buckets.bucket_elements();
  std::vector<std::vector<float>> raw;
  int64_t total = 0;
  for (int64_t n : sizes) raw.emplace_back(static_cast<size_t>(n), 1.0f), total += n;

  const int steps = 200;
  std::vector<double> ours, plain, thread;
  for (int round = 0; round < 7; ++round) {
    ranks->barrier();
    auto begin = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) {
      std::vector<Communicator::Pending> pending;
      for (std::vector<float>& buffer : raw)
        pending.push_back(ranks->start_allreduce_sum(buffer.data(), buffer.size()));
      for (const auto& p : pending) p.wait();
    }
    thread.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count() / steps);
    ranks->barrier();
    auto start = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) {
      for (size_t i = parameters.size(); i-- > 0;) buckets.ready(parameters[i].identity());  // last layer first
      buckets.finish();
      for (size_t i = 0; i < parameters.size(); ++i) parameters[i].set_grad(gradients[i]);
    }
    ours.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / steps);
    ranks->barrier();
    start = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s)
      for (std::vector<float>& buffer : raw)
        MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(buffer.size()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    plain.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / steps);
  }
  if (!ranks->chief()) return 0;
  const double bytes = static_cast<double>(total) * sizeof(float), n = ranks->size();
  const auto busbw = [&](double seconds) { return bytes * 2 * (n - 1) / n / seconds / 1e9; };
  std::printf(
      "allreduce ranks=%d buckets=%zu bytes=%.0f buckets_us=%.1f buckets_busbw_gbps=%.2f thread_us=%.1f "
      "thread_busbw_gbps=%.2f mpi_us=%.1f mpi_busbw_gbps=%.2f ratio=%.2f\n",
      ranks->size(), sizes.size(), bytes, median(ours) * 1e6, busbw(median(ours)), median(thread) * 1e6,
      busbw(median(thread)), median(plain) * 1e6, busbw(median(plain)), median(plain) / median(ours));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "train" && argc == 5) return train(argv[2], std::atoi(argv[3]), std::atoll(argv[4]));
    if (mode == "allreduce") return allreduce();
    std::fprintf(stderr, "usage: bench_distributed train mlp|cnn EPOCHS IMAGES | allreduce\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_distributed: %s\n", e.what());
    return 1;
  }
}
