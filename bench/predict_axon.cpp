// In-process predict latency of the Fashion-MNIST MLP (784-256-128-10), float32 and its
// int8 form (quantize), at batch 1 and 64: the figure the server's per-request cost
// builds on; and batch-64 inference of the Fashion-MNIST CNN (bench/cnn_axon.cpp's
// network), float32 and int8, in images/s. PyTorch from Python: bench/predict_torch.py
// and bench/predict_cnn_torch.py.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "axon/axon.h"

namespace {

void predict(benchmark::State& state, bool int8) {
  axon::set_num_threads(static_cast<int>(state.range(1)));
  axon::manual_seed(0);
  auto model = std::make_shared<axon::Sequential>(axon::Shape{784});
  model->add(axon::Dense(256, "relu"));
  model->add(axon::Dense(128, "relu"));
  model->add(axon::Dense(10, "softmax"));
  model->build(axon::Shape{784});
  const std::shared_ptr<axon::Model> run = int8 ? axon::quantize(*model) : model;
  const axon::Tensor x = axon::Generator(1).uniform({static_cast<int64_t>(state.range(0)), 784}, 0, 1);
  std::vector<double> calls;  // microseconds, each call alone
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(run->predict(x, 256).raw());
    calls.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  // The loop's mean counts the calls the machine interrupts (this shared VM stops a CPU
  // for 2-5 us about every 50 us: 7.5 % of its time); the median call is the latency.
  std::nth_element(calls.begin(), calls.begin() + calls.size() / 2, calls.end());
  state.counters["p50_us"] = calls[calls.size() / 2];
}

void BM_PredictOne(benchmark::State& state) { predict(state, false); }
void BM_PredictInt8(benchmark::State& state) { predict(state, true); }

// conv32-relu-maxpool -> conv64-relu-maxpool -> dense128-relu -> dense10, batch 64.
void cnn_predict(benchmark::State& state, bool int8) {
  axon::set_num_threads(static_cast<int>(state.range(0)));
  axon::manual_seed(0);
  auto model = std::make_shared<axon::Sequential>(axon::Shape{1, 28, 28});
  model->add(axon::Conv2D(32, {3, 3}, "relu", {.padding = "same"}));
  model->add(axon::MaxPool2D());
  model->add(axon::Conv2D(64, {3, 3}, "relu", {.padding = "same"}));
  model->add(axon::MaxPool2D());
  model->add(axon::Flatten());
  model->add(axon::Dense(128, "relu"));
  model->add(axon::Dense(10, "softmax"));
  model->build(axon::Shape{1, 28, 28});
  const std::shared_ptr<axon::Model> run = int8 ? axon::quantize(*model) : model;
  const axon::Tensor x = axon::Generator(1).uniform({64, 1, 28, 28}, 0, 1);
  for (auto _ : state) benchmark::DoNotOptimize(run->predict(x, 64).raw());
  state.SetItemsProcessed(state.iterations() * 64);
}

void BM_CnnPredict64(benchmark::State& state) { cnn_predict(state, false); }
void BM_CnnPredict64Int8(benchmark::State& state) { cnn_predict(state, true); }

BENCHMARK(BM_CnnPredict64)->ArgNames({"threads"})->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_CnnPredict64Int8)->ArgNames({"threads"})->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_PredictOne)->ArgNames({"batch", "threads"})->ArgsProduct({{1, 64}, {1, 2}})->UseRealTime();
BENCHMARK(BM_PredictInt8)->ArgNames({"batch", "threads"})->ArgsProduct({{1, 64}, {1, 2}})->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
