// A character-level language model of the King James Bible (Debian's bible-kjv): a
// small GPT (2 pre-norm Transformer blocks, d_model 128, 4 heads, context 128) or an
// LSTM (256 units), trained on windows of the first 95 % of the text and measured on
// the last 5 % in bits per character; then text sampled with temperature and top-k, with
// the key/value cache (or the LSTM's carried state) and without, tokens per second of
// each. The model file holds its character vocabulary: continue any text with
//   build/tools/axon generate --model char_lm.safetensors --prompt "In the beginning"
// Usage: char_lm [gpt|lstm] [STEPS] [MODEL_FILE]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "axon/axon.h"

using namespace axon;

namespace {

constexpr int64_t kContext = 128, kBatch = 32;

std::shared_ptr<Functional> gpt(int64_t vocabulary, const std::shared_ptr<TextVectorization>& text) {
  SymbolicTensor tokens = Input(Shape{kContext}, "tokens");
  SymbolicTensor h = PositionalEmbedding(kContext)(Embedding(vocabulary, 128)((*text)(tokens)));
  for (int block = 0; block < 2; ++block) h = TransformerDecoderBlock(4, 512, {.dropout = 0.1})(h);
  h = LayerNormalization(1e-5)(h);
  return std::make_shared<Functional>(std::vector{tokens}, std::vector{Dense(vocabulary, "softmax")(h)});
}

std::shared_ptr<Functional> lstm(int64_t vocabulary, const std::shared_ptr<TextVectorization>& text) {
  SymbolicTensor tokens = Input(Shape{kContext}, "tokens");
  SymbolicTensor h = LSTM(256, {.return_sequences = true})(Embedding(vocabulary, 64)((*text)(tokens)));
  return std::make_shared<Functional>(std::vector{tokens}, std::vector{Dense(vocabulary, "softmax")(h)});
}

double tokens_per_second(Model& model, const std::vector<int64_t>& prompt, bool cache, std::vector<int64_t>* out) {
  const auto start = std::chrono::steady_clock::now();
  *out = generate(model, prompt, {.tokens = 200, .temperature = 0.8, .top_k = 10, .seed = 1, .cache = cache});
  return 200 / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string kind = argc > 1 ? argv[1] : "gpt";
  const int64_t steps = argc > 2 ? std::atoll(argv[2]) : 600;
  const std::string path = argc > 3 ? argv[3] : "char_lm.safetensors";
  if (kind != "gpt" && kind != "lstm") {
    std::fprintf(stderr, "usage: char_lm [gpt|lstm] [STEPS] [MODEL_FILE]\n");
    return 2;
  }
  const std::string bible = datasets::king_james_bible();
  const size_t split = bible.size() * 95 / 100;
  auto text = std::make_shared<TextVectorization>(TextVectorizationOptions{.split = "character", .standardize = "none"});
  text->adapt({bible.substr(0, split)});
  const SequenceWindows train = language_model_windows(text->ids(bible.substr(0, split)), kContext, kContext);
  const SequenceWindows validation = language_model_windows(text->ids(bible.substr(split)), kContext, kContext);
  std::printf("King James Bible: %zu characters, %lld distinct; %lld training and %lld validation windows of %lld\n",
              bible.size(), static_cast<long long>(text->vocabulary_size() - 2), static_cast<long long>(train.x.dim(0)),
              static_cast<long long>(validation.x.dim(0)), static_cast<long long>(kContext));

  manual_seed(7);
  std::shared_ptr<Functional> model = kind == "gpt" ? gpt(text->vocabulary_size(), text) : lstm(text->vocabulary_size(), text);
  auto adam = std::make_shared<Adam>(CosineDecay(1e-3, steps, 0.1, {.warmup_target = 2e-3, .warmup_steps = steps / 10}));
  adam->set_clipping({.global_clipnorm = 1.0});
  model->compile(adam, "sparse_categorical_crossentropy");
  model->summary(std::cout);

  // `steps` batches drawn from all the training windows (one epoch over that many).
  const int64_t used = std::min(steps * kBatch, train.x.dim(0));
  const std::vector<int64_t> order = Generator(3).permutation(train.x.dim(0));
  std::vector<int64_t> picked(order.begin(), order.begin() + used);
  const Tensor x = index_select(Variable(train.x), 0, picked).value(), y = index_select(Variable(train.y), 0, picked).value();
  const auto start = std::chrono::steady_clock::now();
  model->fit(x, y, {.epochs = 1, .batch_size = kBatch, .verbose = 1, .seed = 5});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double loss = model->evaluate(validation.x, validation.y, kBatch).at("loss");
  std::printf("\n%s: %lld steps in %.0f s (%.0f ms/step); validation loss %.4f = %.3f bits per character\n",
              kind.c_str(), static_cast<long long>(used / kBatch), seconds, 1e3 * seconds / static_cast<double>(used / kBatch),
              loss, loss / std::log(2.0));

  const std::vector<int64_t> prompt = text->ids("In the beginning");
  std::vector<int64_t> cached, uncached;
  const double fast = tokens_per_second(*model, prompt, true, &cached);
  const double slow = tokens_per_second(*model, prompt, false, &uncached);
  // The two agree while the text fits the context (generation.h).
  const bool same = std::equal(cached.begin(), cached.begin() + kContext, uncached.begin());
  std::printf("\n%s\n\ngeneration: %.0f tokens/s with the %s, %.0f without (%.1fx); the same first %lld tokens: %s\n",
              text->decode(cached).c_str(), fast, kind == "gpt" ? "key/value cache" : "carried state", slow, fast / slow,
              static_cast<long long>(kContext), same ? "yes" : "no");
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak resident memory: %.0f MB\n", static_cast<double>(usage.ru_maxrss) / 1024);
  save_model(*model, path);
  std::printf("saved %s\n", path.c_str());
}
