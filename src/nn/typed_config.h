#pragma once
// A layer's settings with its registered "type", as a spec holds a layer: what
// Registry<Module>::create builds it again from (wrappers keep their inner layer so).
#include "axon/module.h"
#include "axon/registry.h"

namespace axon::detail {

inline Config typed_config(const Module& layer) {
  Config config = layer.config();
  config.set("type", Registry<Module>::instance().name_of(layer));
  return config;
}

}  // namespace axon::detail
