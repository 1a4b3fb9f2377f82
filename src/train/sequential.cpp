#include "axon/sequential.h"

#include "axon/pooling.h"

namespace axon {

Variable Sequential::call(const Variable& x) {
  if (children().empty()) fail("Sequential: no layers; add() some first");
  const auto& layers = children();
  Variable y = x;
  for (size_t i = 0; i < layers.size(); ++i) {
    auto* conv = dynamic_cast<Conv2D*>(layers[i].second.get());
    if (conv && i + 1 < layers.size() && conv->fuses_with(*layers[i + 1].second)) {
      // Conv2D + MaxPool2D as one op: the convolution's output is never materialised.
      y = conv->forward_max_pooled(y, static_cast<Pool2D&>(*layers[++i].second));
      continue;
    }
    y = (*layers[i].second)(y);
  }
  return y;
}

Module& Sequential::layer(size_t i) const {
  if (i >= children().size()) fail("Sequential::layer: index ", i, " out of range (", children().size(), " layers)");
  return *children()[i].second;
}

}  // namespace axon
