#pragma once
// Bidirectional (Keras's wrapper): a recurrent layer run over the sequence both ways,
// the forward layer as given and a copy of it (its own weights) reading the sequence
// from its end, their outputs merged: "concat" (the last axis), "sum", "mul" or "ave".
// With return_sequences the backward outputs are put back in time order first, so step
// t of both sees the same position. With return_state the outputs are the merged one,
// then the forward layer's states, then the backward layer's.
//   SymbolicTensor h = Bidirectional(std::make_shared<GRU>(32, RecurrentOptions{.return_sequences = true}))(x);
#include <memory>
#include <string>
#include <vector>

#include "axon/recurrent.h"

namespace axon {

class Bidirectional : public Module {
 public:
  explicit Bidirectional(std::shared_ptr<Recurrent> layer, std::string merge_mode = "concat");
  std::vector<Variable> forward_many(const std::vector<Variable>& inputs) override;
  std::string type_name() const override { return "Bidirectional"; }
  bool propagates_mask() const override { return true; }
  Config config() const override;
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  static std::shared_ptr<Bidirectional> from_config(const ConfigReader& config);
  const Recurrent& forward_layer() const { return *forward_; }
  const Recurrent& backward_layer() const { return *backward_; }
  const std::string& merge_mode() const { return merge_mode_; }

 private:
  std::shared_ptr<Recurrent> forward_, backward_;
  std::string merge_mode_;
};

}  // namespace axon
