#pragma once
// Graph: the layer calls between a model's inputs and outputs (recorded with symbolic
// tensors, see functional.h) in topological order, planned once into the steps that run
// them: a Conv2D followed only by a max pooling becomes one fused step (see
// nn/fusion.h). Sequential and Functional models both run through it.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "axon/functional.h"

namespace axon::detail {

class InferencePlan;

class Graph {
 public:
  Graph(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs);
  ~Graph();

  // One value per input, in order -> one value per output.
  std::vector<Variable> run(const std::vector<Variable>& inputs) const;
  // The same for inference, through a plan compiled for these input shapes (see
  // inference_plan.h) and kept for the next call of the same shapes (the last few).
  // Call it with gradients off and the layers in inference mode.
  std::vector<Tensor> predict(const std::vector<Tensor>& inputs) const;
  // Fails unless there is one tensor per input, each of the input's shape with a batch axis.
  void check_inputs(const std::vector<Shape>& shapes) const;

  // The planned steps: each runs one layer call (or two fused ones, with no `layer`),
  // reading and writing value slots; the inputs are slots 0, 1, ...
  struct Step {
    std::function<std::vector<Variable>(const std::vector<Variable>&)> run;
    std::vector<size_t> inputs, outputs;  // value slots
    std::shared_ptr<Module> layer;        // the layer called, unless the step is a fusion
  };
  const std::vector<Step>& steps() const { return steps_; }
  size_t slot_count() const { return slots_; }
  const std::vector<size_t>& output_slots() const { return output_slots_; }

  // The layer calls in topological order (inputs excluded), each with its name:
  // the layer's name for its first call, "<layer>@<k>" for its k-th.
  struct Call {
    std::shared_ptr<GraphNode> node;
    std::string name;
  };
  const std::vector<Call>& calls() const { return calls_; }
  const std::vector<SymbolicTensor>& inputs() const { return inputs_; }
  const std::vector<SymbolicTensor>& outputs() const { return outputs_; }
  // The distinct layers in order of first use.
  const std::vector<std::shared_ptr<Module>>& layers() const { return layers_; }
  // How a tensor is named in configs and summaries: an input's name, or the call's
  // name with ":<k>" for output k > 0.
  std::string tensor_name(const SymbolicTensor& t) const;

 private:
  void plan();

  std::vector<SymbolicTensor> inputs_, outputs_;
  std::vector<Call> calls_;
  std::vector<std::shared_ptr<Module>> layers_;
  std::map<const GraphNode*, size_t> first_slot_;  // a node's output k lives in slot first + k
  std::map<const GraphNode*, std::string> names_;
  size_t slots_ = 0;
  std::vector<Step> steps_;
  std::vector<size_t> output_slots_;
  // Inference plans by input shapes, most recently used first.
  mutable std::mutex plans_mutex_;
  mutable std::vector<std::pair<std::vector<Shape>, std::unique_ptr<InferencePlan>>> plans_;
};

}  // namespace axon::detail
