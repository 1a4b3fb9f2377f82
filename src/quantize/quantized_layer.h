#pragma once
// What the int8 layers share: the float32 input they accept, and their kernel packed
// for the int8 GEMM.
#include <memory>
#include <mutex>

#include "axon/variable.h"
#include "kernels/int8_gemm.h"

namespace axon::detail {

// x's values, checked: float32, and not part of a computation that wants gradients
// (int8 layers have none to give). `who` names the layer in errors.
inline Tensor quantized_layer_input(const Variable& x, const char* who) {
  if (x.value().dtype() != DType::f32) fail(who, ": expects float32 input, got ", dtype_name(x.value().dtype()));
  if (grad_enabled() && x.requires_grad())
    fail(who, ": int8 layers compute no gradients; train the float32 model, then quantize it");
  return x.value();
}

// A kernel packed for int8_gemm on first use and kept until the weights are replaced;
// safe to use from several threads at once (a server's requests).
class PackedKernel {
 public:
  // The packed kernel, built by pack() when there is none.
  template <class Pack>
  std::shared_ptr<const kernels::Int8Weights> get(Pack&& pack) {
    std::lock_guard lock(mutex_);
    if (!packed_) packed_ = std::make_shared<const kernels::Int8Weights>(pack());
    return packed_;
  }
  void reset() {
    std::lock_guard lock(mutex_);
    packed_.reset();
  }

 private:
  std::mutex mutex_;
  std::shared_ptr<const kernels::Int8Weights> packed_;
};

}  // namespace axon::detail
