#include "axon/reshape.h"

#include <algorithm>

#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "flatten", Flatten);
AXON_REGISTER(Module, "reshape", Reshape);

std::shared_ptr<Reshape> Reshape::from_config(const ConfigReader& c) {
  const std::vector<int64_t> dims = c.integers("target_shape", 1, true);
  return c.at("target_shape").named([&] { return std::make_shared<Reshape>(dims); });
}

Variable Flatten::forward(const Variable& x) {
  if (x.rank() < 2) fail("Flatten: input must have a batch axis and features, got ", x.shape());
  return flatten(x);
}

Reshape::Reshape(std::vector<int64_t> target_shape) : target_(std::move(target_shape)) {
  if (target_.empty()) fail("Reshape: target shape is empty");
  int64_t inferred = 0;
  for (int64_t d : target_) {
    if (d == -1)
      ++inferred;
    else if (d < 1)
      fail("Reshape: dimensions must be >= 1 or one -1, got ", d);
  }
  if (inferred > 1) fail("Reshape: at most one -1 in the target shape");
}

Variable Reshape::forward(const Variable& x) {
  std::vector<int64_t> dims = target_;
  dims.insert(dims.begin(), x.dim(0));
  try {
    return reshape(x, dims);
  } catch (const Error& e) {
    std::string target;
    for (int64_t d : target_) target += ", " + std::to_string(d);
    fail("Reshape: input ", x.shape(), " cannot become (batch", target, "): ", e.what());
  }
}

std::vector<std::string> Flatten::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                              const std::vector<Shape>& shapes) const {
  (void)shapes;
  return {graph.op("Flatten", {inputs[0]}, {{"axis", int64_t{1}}})};
}

std::vector<std::string> Reshape::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                              const std::vector<Shape>& shapes) const {
  (void)shapes;
  // The batch axis as -1 (inferred), or as 0 (kept as it is) when the target infers one
  // of its own; -1 is what more runtimes read (OpenCV 4.6 misreads 0).
  const bool infers = std::find(target_.begin(), target_.end(), -1) != target_.end();
  std::vector<int64_t> dims{infers ? 0 : -1};
  dims.insert(dims.end(), target_.begin(), target_.end());
  return {graph.op("Reshape",
                   {inputs[0], graph.constant("shape", Tensor::from(dims, Shape{static_cast<int64_t>(dims.size())}))})};
}

}  // namespace axon
