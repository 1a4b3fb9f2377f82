// GEMM throughput in GFLOP/s: axon's matmul (OpenBLAS sgemm underneath) on the MLP's
// first-layer shape (128x784)·(784x256), its weight-gradient shape, and 1024^3, at
// 1 and 2 threads. Run via bench/matmul.sh to see PyTorch's figures beside them.
#include <benchmark/benchmark.h>

#include "axon/axon.h"
#include "kernels/gemm.h"

namespace {

void BM_Matmul(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const bool trans_a = state.range(3) != 0;
  axon::set_num_threads(static_cast<int>(state.range(4)));
  axon::Generator gen(1);
  const axon::Tensor a = gen.uniform(trans_a ? axon::Shape{k, m} : axon::Shape{m, k}, -1, 1);
  const axon::Tensor b = gen.uniform({k, n}, -1, 1);
  for (auto _ : state) benchmark::DoNotOptimize(axon::kernels::matmul(a, trans_a, b, false).raw());
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * static_cast<double>(m * n * k), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void Shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n", "transA", "threads"});
  for (int threads : {1, 2}) {
    b->Args({128, 784, 256, 0, threads});  // forward: x (128, 784) @ W (784, 256)
    b->Args({784, 128, 256, 1, threads});  // weight gradient: x^T (784, 128) @ g (128, 256)
    b->Args({1024, 1024, 1024, 0, threads});
  }
}

BENCHMARK(BM_Matmul)->Apply(Shapes)->UseRealTime()->MinTime(0.5);

}  // namespace

BENCHMARK_MAIN();
