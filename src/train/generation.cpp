#include "axon/generation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "axon/ops.h"
#include "axon/random.h"

namespace axon {

namespace {

thread_local IncrementalDecoding* current = nullptr;

// The last step's scores of a (1, steps, vocabulary) output as log-probabilities (up to
// a constant): the log of a softmax's probabilities, or the logits as they are.
std::vector<double> last_step_scores(const Variable& output) {
  if (output.rank() != 3 || output.dim(0) != 1)
    fail("generate: the model must give (batch, steps, vocabulary) scores, got ", output.shape());
  const int64_t vocabulary = output.dim(2);
  const std::vector<double> all = output.value().to_vector();
  std::vector<double> scores(all.end() - vocabulary, all.end());
  if (std::string(output.op()) == "softmax")
    for (double& s : scores) s = std::log(std::max(s, 1e-30));
  return scores;
}

int64_t draw(std::vector<double> scores, const GenerateOptions& options, Generator& generator) {
  const int64_t vocabulary = static_cast<int64_t>(scores.size());
  if (options.temperature == 0)
    return static_cast<int64_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
  std::vector<int64_t> order(static_cast<size_t>(vocabulary));
  std::iota(order.begin(), order.end(), 0);
  const int64_t kept = options.top_k > 0 ? std::min(options.top_k, vocabulary) : vocabulary;
  std::partial_sort(order.begin(), order.begin() + kept, order.end(),
                    [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
  const double top = scores[order[0]];
  std::vector<double> weights(static_cast<size_t>(kept));
  double total = 0;
  for (int64_t i = 0; i < kept; ++i) total += weights[i] = std::exp((scores[order[i]] - top) / options.temperature);
  double target = generator.uniform() * total;
  for (int64_t i = 0; i < kept; ++i) {
    target -= weights[i];
    if (target <= 0) return order[i];
  }
  return order[kept - 1];
}

Variable run(Model& model, const std::vector<int64_t>& ids, size_t begin, size_t end) {
  std::vector<double> values(ids.begin() + static_cast<std::ptrdiff_t>(begin), ids.begin() + static_cast<std::ptrdiff_t>(end));
  return model(Variable(Tensor::from(values, Shape{1, static_cast<int64_t>(end - begin)}).to(DType::f32)));
}

}  // namespace

IncrementalDecoding::IncrementalDecoding() : previous_(current) { current = this; }
IncrementalDecoding::~IncrementalDecoding() { current = previous_; }
IncrementalDecoding* IncrementalDecoding::active() { return current; }

std::vector<int64_t> generate(Model& model, const std::vector<int64_t>& prompt, const GenerateOptions& options) {
  if (prompt.empty()) fail("generate: the prompt needs at least one token");
  if (options.tokens < 0 || options.top_k < 0 || !(options.temperature >= 0))
    fail("generate: tokens and top_k must be >= 0 and temperature >= 0");
  const std::vector<Shape> shapes = model.input_shapes();
  if (shapes.size() != 1 || shapes[0].rank() != 1)
    fail("generate: the model must take one input of token ids (steps,), got ", shapes.size(), " inputs");
  const size_t context = static_cast<size_t>(shapes[0][0]);
  NoGrad no_grad;
  struct Inference {  // the model in inference mode for the call, as it was after
    Model& model;
    bool was_training;
    ~Inference() { model.train(was_training); }
  } inference{model, model.training()};
  model.eval();
  Generator generator(options.seed);
  std::vector<int64_t> ids = prompt;
  std::unique_ptr<IncrementalDecoding> cache;
  for (int64_t n = 0; n < options.tokens; ++n) {
    Variable output;
    if (!options.cache) {  // the last `context` tokens, all of them again
      IncrementalDecoding scope;
      output = run(model, ids, ids.size() > context ? ids.size() - context : 0, ids.size());
    } else if (!cache || static_cast<size_t>(cache->position()) >= context) {
      // A fresh cache: the prompt, or the last half of a full context.
      const size_t keep = cache ? std::max<size_t>(context / 2, 1) : std::min(ids.size(), context);
      cache.reset();
      cache = std::make_unique<IncrementalDecoding>();
      output = run(model, ids, ids.size() - keep, ids.size());
      cache->advance(static_cast<int64_t>(keep));
    } else {
      output = run(model, ids, ids.size() - 1, ids.size());
      cache->advance(1);
    }
    ids.push_back(draw(last_step_scores(output), options, generator));
  }
  return ids;
}

}  // namespace axon
