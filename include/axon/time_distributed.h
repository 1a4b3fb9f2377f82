#pragma once
// TimeDistributed (Keras's wrapper): one layer applied to every step of a sequence,
// (batch, time, ...) -> (batch, time, the layer's output for one step), with one set
// of weights for all steps. The steps run as one batch of batch * time examples.
//   SymbolicTensor scores = TimeDistributed(std::make_shared<Dense>(vocabulary))(LSTM(64, {.return_sequences =
//   true})(x));
#include <memory>
#include <string>

#include "axon/module.h"

namespace axon {

class TimeDistributed : public Module {
 public:
  explicit TimeDistributed(std::shared_ptr<Module> layer);
  Variable forward(const Variable& x) override;
  bool propagates_mask() const override { return true; }
  std::string type_name() const override { return "TimeDistributed"; }
  Config config() const override;
  // Reshape to (batch * time, ...), the layer's form, Reshape back.
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  static std::shared_ptr<TimeDistributed> from_config(const ConfigReader& config);
  const Module& layer() const { return *layer_; }

 private:
  std::shared_ptr<Module> layer_;
};

}  // namespace axon
