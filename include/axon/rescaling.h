#pragma once
// Rescaling (Keras's layer): y = x * scale + offset, elementwise, scale and offset
// numbers. Rescaling(1.0 / 255) brings pixels into [0, 1]; ONNX import makes one of a
// graph tensor times, plus, minus or divided by a scalar constant.
#include <memory>
#include <string>
#include <vector>

#include "axon/module.h"

namespace axon {

class Rescaling : public Module {
 public:
  explicit Rescaling(double scale, double offset = 0.0);
  Variable forward(const Variable& x) override;
  bool propagates_mask() const override { return true; }
  std::string type_name() const override { return "Rescaling"; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  Config config() const override { return Config::object().set("scale", scale_).set("offset", offset_); }
  static std::shared_ptr<Rescaling> from_config(const ConfigReader& config);
  double scale() const { return scale_; }
  double offset() const { return offset_; }

 private:
  double scale_, offset_;
};

}  // namespace axon
