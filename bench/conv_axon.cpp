// Convolution kernel throughput in GFLOP/s: forward, backward-data and backward-weights
// on the two convolutions of examples/fashion_cnn at batch 128 (3x3, "same"), at 1 and 2
// threads, beside a 1024^3 GEMM on the same threads: the peak the im2col + GEMM kernels
// are measured against. bench/conv.sh prints the ratios.
#include <benchmark/benchmark.h>

#include "axon/axon.h"
#include "kernels/conv.h"
#include "kernels/gemm.h"

namespace {

using axon::Geometry2D;

enum Pass { kForward, kBackwardData, kBackwardWeights };

void BM_Conv(benchmark::State& state) {
  const int64_t n = 128, c = state.range(0), hw = state.range(1), f = state.range(2);
  const auto pass = static_cast<Pass>(state.range(3));
  axon::set_num_threads(static_cast<int>(state.range(4)));
  axon::Generator gen(1);
  const axon::Tensor x = gen.uniform({n, c, hw, hw}, -1, 1), w = gen.uniform({f, c, 3, 3}, -1, 1);
  const axon::Tensor dy = gen.uniform({n, f, hw, hw}, -1, 1);
  Geometry2D same;
  same.pad_top = same.pad_bottom = same.pad_left = same.pad_right = 1;
  for (auto _ : state) {
    if (pass == kForward)
      benchmark::DoNotOptimize(axon::kernels::conv2d(x, w, same).raw());
    else
      benchmark::DoNotOptimize(
          axon::kernels::conv2d_backward(dy, x, w, same, pass == kBackwardData, pass == kBackwardWeights, false)
              .dx.defined());
  }
  // Each pass is one (F x C*9) by (C*9 x N*H*W) product's worth of multiply-adds.
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(f * c * 9 * n * hw * hw),
                         benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void BM_GemmPeak(benchmark::State& state) {
  axon::set_num_threads(static_cast<int>(state.range(0)));
  axon::Generator gen(2);
  const axon::Tensor a = gen.uniform({1024, 1024}, -1, 1), b = gen.uniform({1024, 1024}, -1, 1);
  for (auto _ : state) benchmark::DoNotOptimize(axon::kernels::matmul(a, false, b, false).raw());
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * 1024 * 1024 * 1024, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void Layers(benchmark::internal::Benchmark* b) {
  b->ArgNames({"c", "hw", "f", "pass", "threads"});
  for (int threads : {1, 2})
    for (int pass : {kForward, kBackwardData, kBackwardWeights}) {
      b->Args({1, 28, 32, pass, threads});   // conv1: (128, 1, 28, 28) -> 32 filters
      b->Args({32, 14, 64, pass, threads});  // conv2: (128, 32, 14, 14) -> 64 filters
    }
}

BENCHMARK(BM_Conv)->Apply(Layers)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_GemmPeak)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->MinTime(0.5);

}  // namespace

BENCHMARK_MAIN();
