#pragma once
// Graph: the layer calls between a model's inputs and outputs (recorded with symbolic
// tensors, see functional.h) in topological order, planned once into the steps that run
// them: a Conv2D followed only by a max pooling becomes one fused step (see
// nn/fusion.h). Sequential and Functional models both run through it.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "axon/functional.h"

namespace axon::detail {

class Graph {
 public:
  Graph(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs);

  // One value per input, in order -> one value per output.
  std::vector<Variable> run(const std::vector<Variable>& inputs) const;

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

  struct Step {
    std::function<std::vector<Variable>(const std::vector<Variable>&)> run;
    std::vector<size_t> inputs, outputs;  // value slots
  };
  std::vector<SymbolicTensor> inputs_, outputs_;
  std::vector<Call> calls_;
  std::vector<std::shared_ptr<Module>> layers_;
  std::map<const GraphNode*, size_t> first_slot_;  // a node's output k lives in slot first + k
  std::map<const GraphNode*, std::string> names_;
  size_t slots_ = 0;
  std::vector<Step> steps_;
  std::vector<size_t> output_slots_;
};

}  // namespace axon::detail
