#include "axon/callbacks.h"

#include "axon/error.h"

namespace axon {

Model& Callback::model() const {
  if (!model_) fail("callback: not attached to a model (fit() attaches it)");
  return *model_;
}

}  // namespace axon
