#include "axon/rescaling.h"

#include <cmath>

#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "rescaling", Rescaling);

Rescaling::Rescaling(double scale, double offset) : scale_(scale), offset_(offset) {
  if (!std::isfinite(scale) || !std::isfinite(offset))
    fail("Rescaling: scale and offset must be finite, got ", scale, " and ", offset);
}

std::shared_ptr<Rescaling> Rescaling::from_config(const ConfigReader& c) {
  const double limit = 1e300;
  return std::make_shared<Rescaling>(c.number("scale", -limit, limit), c.number_or("offset", 0.0, -limit, limit));
}

Variable Rescaling::forward(const Variable& x) {
  Variable y = scale_ == 1.0 ? x : x * scale_;
  return offset_ == 0.0 ? y : y + offset_;
}

std::vector<std::string> Rescaling::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                const std::vector<Shape>& shapes) const {
  (void)shapes;
  std::string y = inputs[0];
  if (scale_ != 1.0) y = graph.op("Mul", {y, graph.constant("scale", Tensor::scalar(scale_))});
  if (offset_ != 0.0) y = graph.op("Add", {y, graph.constant("offset", Tensor::scalar(offset_))});
  if (y == inputs[0]) y = graph.op("Identity", {y});
  return {y};
}

}  // namespace axon
