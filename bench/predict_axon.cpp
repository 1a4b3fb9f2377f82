// In-process predict latency of the Fashion-MNIST MLP (784-256-128-10), float32 and its
// int8 form (quantize), at batch 1 and 64: the figure the server's per-request cost
// builds on. PyTorch from Python: bench/predict_torch.py.
#include <benchmark/benchmark.h>

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
  for (auto _ : state) benchmark::DoNotOptimize(run->predict(x, 256).raw());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_PredictOne(benchmark::State& state) { predict(state, false); }
void BM_PredictInt8(benchmark::State& state) { predict(state, true); }

BENCHMARK(BM_PredictOne)->ArgNames({"batch", "threads"})->ArgsProduct({{1, 64}, {1, 2}})->UseRealTime();
BENCHMARK(BM_PredictInt8)->ArgNames({"batch", "threads"})->ArgsProduct({{1, 64}, {1, 2}})->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
