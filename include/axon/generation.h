#pragma once
// Text generation from a model that predicts the next token at every step: input ids
// (batch, steps), output (batch, steps, vocabulary) of probabilities (a softmax) or
// logits. Each new token is drawn from the last step's distribution, sharpened or
// flattened by `temperature` (0: always the most likely token) and cut to the `top_k`
// most likely (0: all).
//
// Incremental decoding: with `cache`, the prompt runs once and then each new token alone,
// the layers keeping what they need from the earlier steps in an IncrementalDecoding
// scope: causal MultiHeadAttention its keys and values (a key/value cache), recurrent
// layers their states, positional layers the position reached. A token then costs
// O(context) instead of a run over the whole context. Layers that need the future
// (non-causal self-attention, Bidirectional) refuse to run in such a scope. When the
// context is full (the model's input length), the cache restarts from the last half of
// it; without the cache the window slides one token at a time, so the two agree while
// the text fits the context.
#include <cstdint>
#include <map>
#include <vector>

#include "axon/model.h"

namespace axon {

struct GenerateOptions {
  int64_t tokens = 100;      // how many to add
  double temperature = 1.0;  // 0: greedy
  int64_t top_k = 0;         // 0: every token
  uint64_t seed = 0;
  bool cache = true;
};

// prompt: token ids (at least one) -> the prompt followed by options.tokens new ids.
std::vector<int64_t> generate(Model& model, const std::vector<int64_t>& prompt, const GenerateOptions& options = {});

// The scope of one incremental decoding (see above); one per thread at a time.
class IncrementalDecoding {
 public:
  IncrementalDecoding();
  ~IncrementalDecoding();
  IncrementalDecoding(const IncrementalDecoding&) = delete;
  IncrementalDecoding& operator=(const IncrementalDecoding&) = delete;

  static IncrementalDecoding* active();  // the scope open on this thread, or null
  int64_t position() const { return position_; }  // steps run so far
  void advance(int64_t steps) { position_ += steps; }
  // What `layer` keeps between runs (empty at first).
  std::vector<Tensor>& state(const Module& layer) { return states_[&layer]; }

 private:
  IncrementalDecoding* previous_;
  int64_t position_ = 0;
  std::map<const Module*, std::vector<Tensor>> states_;
};

}  // namespace axon
