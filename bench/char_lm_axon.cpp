// The models of examples/char_lm on the King James Bible: the GPT (2 pre-norm blocks,
// d_model 128, 4 heads, context 128, dropout 0) or the LSTM (embedding 64, 256 units).
// Writes the model's initial weights and the text's ids for
// bench/char_lm_torch.py, trains STEPS steps of batch 32 on consecutive windows with
// Adam 1e-3, and prints the median training step, the validation loss after, greedy
// generation's tokens per second at context 128 with the key/value cache and without,
// and the peak resident memory.
// Prints "axon step_ms=.. val_loss=.. cached_tps=.. uncached_tps=.. rss_mb=..".
// Usage: bench_char_lm gpt|lstm INIT.safetensors IDS_PREFIX STEPS (writes IDS_PREFIXtrain.npy
// and IDS_PREFIXval.npy)
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "axon/axon.h"

using namespace axon;

namespace {

constexpr int64_t kContext = 128, kBatch = 32, kValidationWindows = 64;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string kind = argc > 1 ? argv[1] : "";
  if (argc < 5 || (kind != "gpt" && kind != "lstm")) {
    std::fprintf(stderr, "usage: bench_char_lm gpt|lstm INIT.safetensors IDS_PREFIX STEPS\n");
    return 2;
  }
  const std::string init = argv[2], prefix = argv[3];
  const int64_t steps = std::stoll(argv[4]);
  const std::string bible = datasets::king_james_bible();
  const size_t split = bible.size() * 95 / 100;
  TextVectorization text({.split = "character", .standardize = "none"});
  text.adapt({bible.substr(0, split)});
  const std::vector<int64_t> train_ids = text.ids(bible.substr(0, split)), val_ids = text.ids(bible.substr(split));
  write_npy(prefix + "train.npy", Tensor::from(train_ids, Shape{static_cast<int64_t>(train_ids.size())}));
  write_npy(prefix + "val.npy", Tensor::from(val_ids, Shape{static_cast<int64_t>(val_ids.size())}));
  const int64_t vocabulary = text.vocabulary_size();

  manual_seed(7);
  SymbolicTensor tokens = Input(Shape{kContext}, "tokens");
  SymbolicTensor h = kind == "gpt" ? PositionalEmbedding(kContext)(Embedding(vocabulary, 128)(tokens))
                                   : LSTM(256, {.return_sequences = true})(Embedding(vocabulary, 64)(tokens));
  if (kind == "gpt") {
    for (int block = 0; block < 2; ++block) h = TransformerDecoderBlock(4, 512)(h);
    h = LayerNormalization(1e-5)(h);
  }
  Functional model({tokens}, {Dense(vocabulary, "softmax")(h)});
  save_weights(model, init);
  model.compile(Adam(1e-3), "sparse_categorical_crossentropy");

  const SequenceWindows train = language_model_windows(train_ids, kContext, kContext);
  const SequenceWindows val = language_model_windows(val_ids, kContext, kContext);
  std::vector<double> ms;
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t first = (step * kBatch) % (train.x.dim(0) - kBatch);
    const auto start = std::chrono::steady_clock::now();
    model.train_on_batch(train.x.rows(first, first + kBatch), train.y.rows(first, first + kBatch));
    ms.push_back(1e3 * seconds_since(start));
  }
  std::nth_element(ms.begin(), ms.begin() + static_cast<long>(ms.size() / 2), ms.end());
  const double val_loss =
      model.evaluate(val.x.rows(0, kValidationWindows), val.y.rows(0, kValidationWindows), kBatch).at("loss");

  // Greedy generation at a full context: a prompt of 127 tokens, 512 new ones (the cache
  // restarts from the last 64 tokens every 64; without it each token runs 128).
  const std::vector<int64_t> prompt(val_ids.begin(), val_ids.begin() + kContext - 1);
  constexpr int64_t kNew = 4 * kContext;
  auto tokens_per_second = [&](bool cache) {  // the median of 3 runs, taken in turn with the other kind
    const auto start = std::chrono::steady_clock::now();
    generate(model, prompt, {.tokens = kNew, .temperature = 0, .cache = cache});
    return static_cast<double>(kNew) / seconds_since(start);
  };
  std::vector<double> cached_runs, uncached_runs;
  for (int run = 0; run < 3; ++run) {
    cached_runs.push_back(tokens_per_second(true));
    uncached_runs.push_back(tokens_per_second(false));
  }
  std::sort(cached_runs.begin(), cached_runs.end());
  std::sort(uncached_runs.begin(), uncached_runs.end());
  const double cached = cached_runs[1], uncached = uncached_runs[1];
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("axon model=%s step_ms=%.1f val_loss=%.4f cached_tps=%.0f uncached_tps=%.0f rss_mb=%.0f\n", kind.c_str(),
              ms[ms.size() / 2], val_loss, cached, uncached, static_cast<double>(usage.ru_maxrss) / 1024);
}
