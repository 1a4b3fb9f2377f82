// Predict latency of the Fashion-MNIST MLP (784-256-128-10: relu, relu, softmax) in PyTorch's C++ API
// (libtorch), at 1 thread, batch 1 and 64: the same model as bench_predict (predict_axon.cpp) without
// Python's per-call overhead. Run by bench/predict.sh. The weights are torch::nn::Linear's default ones
// under a fixed seed, not axon's (also random): the figures are latency, not values.
// Times model->forward(x) under torch::NoGradGuard and under c10::InferenceMode (which also skips
// version counters and view tracking), each the median of 5 timed loops of >= 0.2 s; prints, for the
// faster mode, one line per batch on stdout: "libtorch batch:B threads:1 MICROSECONDS us p50 P50 us",
// P50 the median of single passes timed one by one (MedianCallMicros). Both modes' figures go to
// stderr.
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// Seconds that `iterations` forward passes of x [batch, 784] -> [batch, 10] take.
double TimeLoop(torch::nn::Sequential& model, const torch::Tensor& x, int64_t iterations) {
  const auto start = Clock::now();
  for (int64_t i = 0; i < iterations; ++i) model->forward(x);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Median microseconds per forward pass, under the autograd-off guard Guard (constructed for the whole
// measurement): warm up, double the iteration count until a loop takes >= 0.2 s, then 5 such loops.
template <typename Guard>
double MedianMicros(torch::nn::Sequential& model, const torch::Tensor& x) {
  const Guard guard;
  int64_t iterations = 16;
  TimeLoop(model, x, iterations);  // warm-up: first-call allocations and dispatch caches
  while (TimeLoop(model, x, iterations) < 0.2) iterations *= 2;
  std::vector<double> micros;
  for (int repetition = 0; repetition < 5; ++repetition)
    micros.push_back(TimeLoop(model, x, iterations) / static_cast<double>(iterations) * 1e6);
  std::nth_element(micros.begin(), micros.begin() + 2, micros.end());
  return micros[2];
}

// Median microseconds of a single forward pass, timed one by one over `calls` passes:
// the latency, without the passes the machine interrupts that a loop's mean includes.
template <typename Guard>
double MedianCallMicros(torch::nn::Sequential& model, const torch::Tensor& x, int64_t calls) {
  const Guard guard;
  std::vector<double> micros;
  for (int64_t i = 0; i < calls; ++i) {
    const auto start = Clock::now();
    model->forward(x);
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::nth_element(micros.begin(), micros.begin() + calls / 2, micros.end());
  return micros[calls / 2];
}

}  // namespace

int main() {
  // One intra-op and one inter-op thread; the GEMMs are OpenBLAS's, whose threads follow
  // OPENBLAS_NUM_THREADS (bench/lib.sh's torch_env sets it to 1).
  at::set_num_interop_threads(1);
  torch::set_num_threads(1);
  torch::manual_seed(0);
  torch::nn::Sequential model(torch::nn::Linear(784, 256), torch::nn::ReLU(), torch::nn::Linear(256, 128),
                              torch::nn::ReLU(), torch::nn::Linear(128, 10),
                              torch::nn::Softmax(torch::nn::SoftmaxOptions(1)));
  model->eval();
  for (const int64_t batch : {1, 64}) {
    const torch::Tensor x = torch::rand({batch, 784});  // [batch, 784] in [0, 1), like the axon bench
    const double no_grad = MedianMicros<torch::NoGradGuard>(model, x);
    const double inference = MedianMicros<c10::InferenceMode>(model, x);
    std::fprintf(stderr, "libtorch batch:%lld threads:1 NoGradGuard %.2f us, InferenceMode %.2f us\n",
                 static_cast<long long>(batch), no_grad, inference);
    const int64_t calls = batch == 1 ? 100000 : 5000;
    const double p50 = no_grad < inference ? MedianCallMicros<torch::NoGradGuard>(model, x, calls)
                                           : MedianCallMicros<c10::InferenceMode>(model, x, calls);
    std::printf("libtorch batch:%lld threads:1 %.2f us p50 %.2f us\n", static_cast<long long>(batch),
                std::min(no_grad, inference), p50);
  }
}
