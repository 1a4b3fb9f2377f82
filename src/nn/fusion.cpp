#include "nn/fusion.h"

#include "axon/conv2d.h"
#include "axon/ops.h"
#include "axon/pooling.h"
#include "axon/quantization.h"

namespace axon {

std::optional<FusedCall> fuse(Module& producer, Module& consumer) {
  auto* pool = dynamic_cast<Pool2D*>(&consumer);
  if (!pool || pool->kind() != Pool2D::Kind::max) return std::nullopt;
  if (auto* quantized = dynamic_cast<QuantizedConv2D*>(&producer)) {
    const std::string& activation = quantized->activation_name();
    if (activation != "relu" && activation != "linear") return std::nullopt;
    return [quantized, pool](const Variable& x) { return quantized->forward_max_pooled(x, *pool); };
  }
  auto* conv = dynamic_cast<Conv2D*>(&producer);
  if (!conv) return std::nullopt;
  const bool relu = conv->activation_name() == "relu";
  if (!relu && conv->activation_name() != "linear") return std::nullopt;
  return [conv, pool, relu](const Variable& x) {
    const Geometry2D g = conv->geometry_for(x.shape());
    const Shape conv_shape = conv->output_shape_for(x.shape());
    return conv2d_max_pool2d(x, conv->kernel(), conv->bias(), g, relu, pool->pool_size(),
                             pool->geometry_for(conv_shape));
  };
}

}  // namespace axon
