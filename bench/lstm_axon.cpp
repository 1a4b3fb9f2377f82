// An LSTM layer's forward and backward pass (issue's shape: batch 64, 128 steps, 256
// units, 64 input features, every step's output), median milliseconds over the runs
// after a warm-up, on the threads AXON_NUM_THREADS gives.
// Prints "axon threads=N ms=X". Usage: bench_lstm [RUNS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "axon/axon.h"

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::stoi(argv[1]) : 10;
  axon::LSTM lstm(256, {.return_sequences = true}, {.seed = 1});
  const axon::Variable x(axon::Generator(2).normal(axon::Shape{64, 128, 64}, 0.0, 1.0));
  std::vector<double> ms;
  for (int i = 0; i <= runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    axon::sum(lstm(x)).backward();
    for (axon::Variable& p : lstm.parameters()) p.zero_grad();
    if (i > 0)
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(ms.begin(), ms.begin() + static_cast<long>(ms.size() / 2), ms.end());
  std::printf("axon threads=%d ms=%.1f\n", axon::num_threads(), ms[ms.size() / 2]);
}
