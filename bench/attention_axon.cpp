// Causal self-attention's forward and backward pass, the fused op (batch 32, 4 heads of
// 32, the steps given), median milliseconds over the runs after a warm-up, in its plain
// form (probabilities kept for backward) or tiled (blocks with an online softmax), and
// the bytes each keeps for backward.
// Prints "axon form=F steps=T threads=N ms=X kept_mb=Y".
// Usage: bench_attention plain|tiled STEPS [RUNS] [BLOCK]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "axon/axon.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_attention plain|tiled STEPS [RUNS]\n");
    return 2;
  }
  const std::string form = argv[1];
  const int64_t steps = std::stoll(argv[2]), batch = 32, heads = 4, dim = 32;
  const int runs = argc > 3 ? std::stoi(argv[3]) : 10;
  const int64_t block = argc > 4 ? std::stoll(argv[4]) : axon::AttentionOptions{}.block;
  axon::Generator generator(1);
  const axon::Shape shape{batch, steps, heads, dim};
  axon::Variable q(generator.normal(shape, 0.0, 1.0), true), k(generator.normal(shape, 0.0, 1.0), true),
      v(generator.normal(shape, 0.0, 1.0), true);
  const axon::Tensor weights = generator.normal(shape, 0.0, 1.0);
  std::vector<double> ms;
  for (int i = 0; i <= runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    axon::attention(q, k, v, {.causal = true, .plain = form == "plain", .block = block}).backward(weights);
    for (axon::Variable* x : {&q, &k, &v}) x->zero_grad();
    if (i > 0)
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(ms.begin(), ms.begin() + static_cast<long>(ms.size() / 2), ms.end());
  // Kept for backward beyond q, k, v and the output: p (B, H, T, T) or the log-sum-exp (B, H, T).
  const double kept = form == "plain" ? 4.0 * batch * heads * steps * steps : 8.0 * batch * heads * steps;
  std::printf("axon form=%s steps=%lld threads=%d ms=%.2f kept_mb=%.2f\n", form.c_str(),
              static_cast<long long>(steps), axon::num_threads(), ms[ms.size() / 2], kept / 1e6);
}
