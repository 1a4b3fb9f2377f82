#pragma once
// Slice: entries [begin, end) of one axis of each example, as Python's x[..., begin:end]
// along `axis` (1 is the first axis after the batch; negative counts from the last).
// Keras writes this with a Lambda; axon has it as a layer so that models holding it
// save, load, serve and export (ONNX Slice), and so that load_onnx can take ONNX's
// Slice, Split and one-index Gather of graph tensors (torch's y[:, -1]).
//   SymbolicTensor last = Reshape({units})(Slice(1, steps - 1, steps)(sequence));
#include <memory>

#include "axon/module.h"

namespace axon {

class Slice : public Module {
 public:
  Slice(int64_t axis, int64_t begin, int64_t end);
  Variable forward(const Variable& x) override;
  std::string type_name() const override { return "Slice"; }
  Config config() const override;
  static std::shared_ptr<Slice> from_config(const ConfigReader& config);
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  int64_t axis() const { return axis_; }
  int64_t begin() const { return begin_; }
  int64_t end() const { return end_; }

 private:
  int64_t axis_, begin_, end_;
};

}  // namespace axon
