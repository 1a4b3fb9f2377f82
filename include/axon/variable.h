#pragma once
// Variable: a Tensor in the autograd graph. Ops on Variables record, for each result,
// its inputs and a backward rule; `backward()` walks the graph in reverse topological
// order (iteratively: no recursion, any depth) and accumulates gradients into every
// Variable that requires them. Gradients accumulate across calls until `zero_grad()`.
#include <functional>
#include <memory>
#include <vector>

#include "axon/tensor.h"

namespace axon {

// Given d(loss)/d(output) and which inputs need a gradient, returns d(loss)/d(input)
// for each input (an undefined Tensor where not needed).
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output, const std::vector<bool>& needs)>;

// Called by backward() for each leaf (a parameter) as soon as its gradient is complete,
// before the rest of the pass: `leaf` is its identity() (data-parallel training starts
// summing a bucket of gradients over the ranks while the pass goes on).
using GradientReady = std::function<void(const void* leaf, const Tensor& grad)>;

namespace detail {
struct Node;
}

class Variable {
 public:
  Variable() = default;  // undefined
  explicit Variable(Tensor value, bool requires_grad = false);

  // The result of an op: records the inputs and backward rule when grad mode is on and
  // any input requires grad. `op` must be one of registered_ops().
  static Variable make(const char* op, Tensor value, const std::vector<Variable>& inputs, BackwardFn backward);

  bool defined() const { return node_ != nullptr; }
  const Tensor& value() const;
  Tensor& value();             // for in-place parameter updates by optimizers
  const Tensor& grad() const;  // undefined until a backward pass reaches this Variable
  bool requires_grad() const;
  void set_requires_grad(bool requires_grad);
  const char* op() const;  // the op that made this Variable, "leaf" for inputs and parameters

  const Shape& shape() const { return value().shape(); }
  int64_t dim(int64_t i) const { return value().dim(i); }
  int64_t rank() const { return value().rank(); }
  int64_t numel() const { return value().numel(); }
  DType dtype() const { return value().dtype(); }
  double item() const { return value().item(); }

  // Backpropagates from this Variable: seeded with ones for a 1-element Variable,
  // or with `grad_output` (same shape) otherwise. Frees the graph behind it.
  void backward();
  void backward(const Tensor& grad_output);
  void backward(const Tensor& grad_output, const GradientReady& ready);
  void zero_grad();
  // Replaces the gradient (same shape and dtype), e.g. by its sum over several processes.
  void set_grad(Tensor grad);
  // The same for every copy of this Variable, distinct from every other: a map key.
  const void* identity() const { return node_.get(); }
  // The same value, cut from the graph.
  Variable detach() const;

  // Keras's mask: which steps of a batch of sequences are real (1) and which padding
  // (0), (batch, steps) for a (batch, steps, ...) value. Embedding(mask_zero) attaches
  // it; layers that keep the steps pass it on (Module::propagates_mask); recurrent
  // layers, attention and sequence pooling skip the padded steps. Held as float32;
  // undefined when none.
  const Tensor& mask() const;
  void set_mask(Tensor mask);

  // The inputs of the op that made this Variable (none for a leaf), read-only: e.g. a
  // cross-entropy loss finds the logits behind a "softmax" output and works from them.
  size_t input_count() const;
  Variable input(size_t i) const;

 private:
  std::shared_ptr<detail::Node> node_;
};

// Disables graph recording in its scope (inference, optimizer updates):
//   { NoGrad no_grad; auto y = model(x); }
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};

bool grad_enabled();

// Every op name that Variable::make accepts; the gradient-check test requires an entry
// for each.
const std::vector<const char*>& registered_ops();

}  // namespace axon
