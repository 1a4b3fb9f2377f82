#include "axon/time_distributed.h"

#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"
#include "nn/typed_config.h"

namespace axon {

AXON_REGISTER(Module, "time_distributed", TimeDistributed);

TimeDistributed::TimeDistributed(std::shared_ptr<Module> layer) : layer_(std::move(layer)) {
  if (!layer_) fail("TimeDistributed: needs a layer");
  add_module("layer", layer_);
}

Config TimeDistributed::config() const { return Config::object().set("layer", detail::typed_config(*layer_)); }

std::shared_ptr<TimeDistributed> TimeDistributed::from_config(const ConfigReader& c) {
  return std::make_shared<TimeDistributed>(Registry<Module>::instance().create(c.at("layer")));
}

// x (batch, time, ...) -> (batch * time, ...) -> the layer -> (batch, time, ...).
Variable TimeDistributed::forward(const Variable& x) {
  if (x.rank() < 3) fail("TimeDistributed: expects (batch, time, ...), got ", x.shape());
  std::vector<int64_t> steps = x.shape().dims();
  steps.erase(steps.begin());
  steps[0] = x.dim(0) * x.dim(1);
  const Variable y = (*layer_)(reshape(x, steps));
  std::vector<int64_t> dims = y.shape().dims();
  dims[0] = x.dim(1);
  dims.insert(dims.begin(), x.dim(0));
  return reshape(y, dims);
}

std::vector<std::string> TimeDistributed::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                      const std::vector<Shape>& shapes) const {
  const std::vector<int64_t> step(shapes[0].dims().begin() + 1, shapes[0].dims().end());  // one step's shape
  if (layer_->output_shapes().size() != 1) fail("save_onnx: the layer '", name(), "' (TimeDistributed) has not run yet");
  std::vector<int64_t> merged{-1}, split{-1, shapes[0][0]};
  merged.insert(merged.end(), step.begin(), step.end());
  const std::vector<int64_t>& out = layer_->output_shapes()[0].dims();
  split.insert(split.end(), out.begin(), out.end());
  const std::string steps = graph.op("Reshape", {inputs[0], graph.integers("shape", merged)});
  const std::string y = layer_->export_onnx(graph, {steps}, {Shape(step)}).at(0);
  return {graph.op("Reshape", {y, graph.integers("shape", split)})};
}

}  // namespace axon
