#pragma once
// InferencePlan: a model's graph compiled for inference at one set of input shapes
// (batch axis included), built once and run many times by predict and the server.
// Each layer call becomes a step on plain tensors: no autograd nodes; buffers allocated
// when the plan is built and reused by every run; a Dense layer's bias and relu applied
// in the pass that writes its product, and a single row through it as a GEMV that
// streams the kernel once (kernels/gemv.h); an int8 Dense writes straight into its
// buffer; Dropout (at inference), Flatten and Reshape cost nothing. A layer the plan
// has no step for runs as it does in the graph, on its values (and sequence masks).
// The weights are read from the layers at every run, so a plan stays valid when they
// change.
#include <functional>
#include <mutex>
#include <vector>

#include "train/graph.h"

namespace axon::detail {

class InferencePlan {
 public:
  InferencePlan(const Graph& graph, const std::vector<Shape>& input_shapes);

  // One tensor per input, of the shapes the plan was built for -> the outputs, in the
  // plan's buffers: valid until the next run.
  const std::vector<Tensor>& run(const std::vector<Tensor>& inputs);

 private:
  struct Step {
    std::function<void()> run;
  };
  std::vector<Tensor> values_;  // one per graph slot
  std::vector<Tensor> masks_;   // the sequence mask (Variable::mask) of each slot's value, if any
  size_t input_count_;
  std::vector<size_t> outputs_;  // slots
  std::vector<Step> steps_;
  std::vector<Tensor> results_;
};

}  // namespace axon::detail
