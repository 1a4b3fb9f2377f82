#include "axon/dropout.h"

#include <cmath>

#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"
#include "kernels/parallel.h"
#include "kernels/position_hash.h"

namespace axon {

AXON_REGISTER(Module, "dropout", Dropout);

Dropout::Dropout(double rate, std::optional<uint64_t> seed)
    : rate_(rate), seed_(seed), generator_(seed ? *seed : global_generator().next_u64()) {
  if (!(rate >= 0.0 && rate < 1.0)) fail("Dropout: rate must be in [0, 1), got ", rate);
}

Config Dropout::config() const {
  Config c = Config::object().set("rate", rate_);
  if (seed_) c.set("seed", *seed_);
  return c;
}

std::shared_ptr<Dropout> Dropout::from_config(const ConfigReader& c) {
  std::optional<uint64_t> seed;
  if (c.has("seed")) seed = static_cast<uint64_t>(c.integer("seed", 0));
  return std::make_shared<Dropout>(c.number("rate", 0, 1, true), seed);
}

Variable Dropout::forward(const Variable& x) {
  if (!training() || rate_ == 0.0) return x;
  // mask: 0 with probability rate, else 1 / (1 - rate); each element's draw a hash of
  // this call's seed and its index, so threads fill the mask in parallel chunks.
  Tensor mask = Tensor::empty(x.shape(), x.dtype());
  const uint64_t seed = generator_.next_u64();
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* m = mask.data<T>();
    const T keep_scale = static_cast<T>(1.0 / (1.0 - rate_));
    kernels::parallel_for(mask.numel(), 8, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        m[i] = kernels::position_uniform(seed, static_cast<uint64_t>(i)) < rate_ ? T(0) : keep_scale;
    });
  });
  return x * Variable(mask);
}

std::vector<std::string> Dropout::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                              const std::vector<Shape>& shapes) const {
  (void)shapes;
  return {graph.op("Identity", {inputs[0]})};  // inference: dropout passes its input
}

}  // namespace axon
