#pragma once
// Flatten: (batch, ...) -> (batch, features). Reshape: (batch, ...) -> (batch, target...),
// one target dimension may be -1.
#include <memory>
#include <vector>

#include "axon/module.h"

namespace axon {

class Flatten : public Module {
 public:
  Variable forward(const Variable& x) override;
  std::string type_name() const override { return "Flatten"; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
};

class Reshape : public Module {
 public:
  explicit Reshape(std::vector<int64_t> target_shape);
  Variable forward(const Variable& x) override;
  std::string type_name() const override { return "Reshape"; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  Config config() const override { return Config::object().set("target_shape", target_); }
  static std::shared_ptr<Reshape> from_config(const ConfigReader& config);
  const std::vector<int64_t>& target_shape() const { return target_; }

 private:
  std::vector<int64_t> target_;
};

}  // namespace axon
