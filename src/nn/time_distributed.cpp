#include "axon/time_distributed.h"

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

}  // namespace axon
