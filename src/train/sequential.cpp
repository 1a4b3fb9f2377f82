#include "axon/sequential.h"

namespace axon {

Variable Sequential::call(const Variable& x) {
  if (children().empty()) fail("Sequential: no layers; add() some first");
  Variable y = x;
  for (const auto& [name, layer] : children()) y = (*layer)(y);
  return y;
}

Module& Sequential::layer(size_t i) const {
  if (i >= children().size()) fail("Sequential::layer: index ", i, " out of range (", children().size(), " layers)");
  return *children()[i].second;
}

}  // namespace axon
