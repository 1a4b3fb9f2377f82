// In-process single-sample predict latency of the Fashion-MNIST MLP (784-256-128-10),
// the figure the server's per-request cost builds on. PyTorch from Python: bench/predict_torch.py.
#include <benchmark/benchmark.h>

#include "axon/axon.h"

namespace {

void BM_PredictOne(benchmark::State& state) {
  axon::set_num_threads(static_cast<int>(state.range(1)));
  axon::manual_seed(0);
  axon::Sequential model(axon::Shape{784});
  model.add(axon::Dense(256, "relu"));
  model.add(axon::Dense(128, "relu"));
  model.add(axon::Dense(10, "softmax"));
  const axon::Tensor x = axon::Generator(1).uniform({static_cast<int64_t>(state.range(0)), 784}, 0, 1);
  for (auto _ : state) benchmark::DoNotOptimize(model.predict(x, 256).raw());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK(BM_PredictOne)
    ->ArgNames({"batch", "threads"})
    ->Args({1, 1})
    ->Args({1, 2})
    ->Args({64, 1})
    ->Args({64, 2})
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
