#include "axon/bidirectional.h"

#include <numeric>

#include "axon/generation.h"
#include "axon/ops.h"
#include "axon/registry.h"
#include "nn/typed_config.h"

namespace axon {

AXON_REGISTER(Module, "bidirectional", Bidirectional);

namespace {

std::shared_ptr<Recurrent> recurrent_from(const ConfigReader& config) {
  std::shared_ptr<Recurrent> layer = std::dynamic_pointer_cast<Recurrent>(Registry<Module>::instance().create(config));
  if (!layer) config.bad("a recurrent layer (simple_rnn, lstm, gru)");
  return layer;
}

}  // namespace

Bidirectional::Bidirectional(std::shared_ptr<Recurrent> layer, std::string merge_mode)
    : forward_(std::move(layer)), merge_mode_(std::move(merge_mode)) {
  if (!forward_) fail("Bidirectional: needs a recurrent layer");
  if (merge_mode_ != "concat" && merge_mode_ != "sum" && merge_mode_ != "mul" && merge_mode_ != "ave")
    fail("Bidirectional: merge_mode must be \"concat\", \"sum\", \"mul\" or \"ave\", got \"", merge_mode_, "\"");
  Config backward = detail::typed_config(*forward_);
  backward.set("go_backwards", !forward_->recurrent_options().go_backwards);
  backward_ = recurrent_from(ConfigReader(backward, "Bidirectional.backward_layer"));
  add_module("forward_layer", forward_);
  add_module("backward_layer", backward_);
}

Config Bidirectional::config() const {
  return Config::object().set("layer", detail::typed_config(*forward_)).set("merge_mode", merge_mode_);
}

std::shared_ptr<Bidirectional> Bidirectional::from_config(const ConfigReader& c) {
  return std::make_shared<Bidirectional>(recurrent_from(c.at("layer")), c.string_or("merge_mode", "concat"));
}

std::vector<Variable> Bidirectional::forward_many(const std::vector<Variable>& inputs) {
  if (inputs.size() != 1) fail("Bidirectional: takes the sequence alone, got ", inputs.size(), " inputs");
  if (IncrementalDecoding::active()) fail("Bidirectional: incremental decoding cannot run a layer that reads ahead");
  const std::vector<Variable> ahead = (*forward_)(inputs);
  std::vector<Variable> behind = (*backward_)(inputs);
  if (forward_->recurrent_options().return_sequences) {  // back in time order: (batch, time, units)
    std::vector<int64_t> steps(static_cast<size_t>(behind[0].dim(1)));
    std::iota(steps.rbegin(), steps.rend(), 0);
    behind[0] = index_select(behind[0], 1, steps);
  }
  const Variable &a = ahead[0], &b = behind[0];
  Variable merged;
  if (merge_mode_ == "concat")
    merged = concat({a, b}, a.rank() - 1);
  else if (merge_mode_ == "sum")
    merged = a + b;
  else if (merge_mode_ == "mul")
    merged = a * b;
  else
    merged = (a + b) * 0.5;
  std::vector<Variable> outputs{merged};
  outputs.insert(outputs.end(), ahead.begin() + 1, ahead.end());
  outputs.insert(outputs.end(), behind.begin() + 1, behind.end());
  return outputs;
}

}  // namespace axon
