#include "graph.h"

#include <algorithm>
#include <set>

#include "axon/generation.h"
#include "nn/fusion.h"
#include "train/inference_plan.h"

namespace axon::detail {

namespace {

constexpr size_t kKeptPlans = 4;  // a server's batches come in a few sizes

}  // namespace

Graph::~Graph() = default;

Graph::Graph(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs)
    : inputs_(std::move(inputs)), outputs_(std::move(outputs)) {
  if (inputs_.empty() || outputs_.empty()) fail("Functional: a model needs at least one input and one output");
  std::set<const GraphNode*> input_nodes;
  for (const SymbolicTensor& input : inputs_) {
    if (input.node()->layer) fail("Functional: model inputs must come from Input(), not from a layer call");
    if (!input_nodes.insert(input.node().get()).second) fail("Functional: an input is given twice");
  }

  // Depth-first from the outputs, iteratively: each call after the calls it reads.
  std::vector<std::shared_ptr<GraphNode>> order;
  std::set<const GraphNode*> seen(input_nodes);
  for (const SymbolicTensor& output : outputs_) {
    std::vector<std::pair<std::shared_ptr<GraphNode>, size_t>> stack;
    if (seen.insert(output.node().get()).second) stack.push_back({output.node(), 0});
    if (!output.node()->layer && !input_nodes.contains(output.node().get()))
      fail("Functional: an output is an Input that is not among the model's inputs");
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node->inputs.size()) {
        const std::shared_ptr<GraphNode>& input = node->inputs[next++].node();
        if (!input->layer && !input_nodes.contains(input.get()))
          fail("Functional: the outputs depend on input '", input->input_name.empty() ? "(unnamed)" : input->input_name,
               "', which is not among the model's inputs");
        if (seen.insert(input.get()).second) stack.push_back({input, 0});
      } else {
        order.push_back(node);
        stack.pop_back();
      }
    }
  }

  // Names: inputs, then layers in order of first use, unique across both.
  std::set<std::string> taken;
  for (const SymbolicTensor& input : inputs_)
    if (!input.node()->input_name.empty() && !taken.insert(input.node()->input_name).second)
      fail("Functional: two inputs are named '", input.node()->input_name, "'");
  for (const SymbolicTensor& input : inputs_)
    if (input.node()->input_name.empty()) input.node()->input_name = unique_name("input", taken);
  std::map<const Module*, int> calls_of;
  for (const auto& node : order) {
    Module& layer = *node->layer;
    if (calls_of[&layer]++ > 0) continue;
    layers_.push_back(node->layer);
    if (!layer.name().empty() && !taken.insert(layer.name()).second)
      fail("Functional: two layers (or a layer and an input) are named '", layer.name(), "'");
  }
  for (const auto& layer : layers_)
    if (layer->name().empty()) layer->set_name(unique_name(snake_case(layer->type_name()), taken));

  for (const SymbolicTensor& input : inputs_) {
    first_slot_[input.node().get()] = slots_++;
    names_[input.node().get()] = input.node()->input_name;
  }
  std::map<const Module*, int> call_index;
  for (const auto& node : order) {
    const int k = call_index[node->layer.get()]++;
    const std::string name = k == 0 ? node->layer->name() : node->layer->name() + "@" + std::to_string(k);
    calls_.push_back({node, name});
    names_[node.get()] = name;
    first_slot_[node.get()] = slots_;
    slots_ += node->output_shapes.size();
  }
  for (const SymbolicTensor& output : outputs_)
    output_slots_.push_back(first_slot_.at(output.node().get()) + output.index());
  plan();
}

std::string Graph::tensor_name(const SymbolicTensor& t) const {
  const std::string& base = names_.at(t.node().get());
  return t.index() == 0 ? base : base + ":" + std::to_string(t.index());
}

void Graph::plan() {
  // How many times each slot is read by a call or returned as an output.
  std::vector<int> readers(slots_, 0);
  for (const Call& call : calls_)
    for (const SymbolicTensor& input : call.node->inputs) ++readers[first_slot_.at(input.node().get()) + input.index()];
  for (size_t slot : output_slots_) ++readers[slot];

  std::vector<bool> fused_away(calls_.size(), false);
  for (size_t i = 0; i < calls_.size(); ++i) {
    if (fused_away[i]) continue;
    const GraphNode& node = *calls_[i].node;
    Step step;
    for (const SymbolicTensor& input : node.inputs)
      step.inputs.push_back(first_slot_.at(input.node().get()) + input.index());
    const size_t first = first_slot_.at(&node);
    for (size_t k = 0; k < node.output_shapes.size(); ++k) step.outputs.push_back(first + k);
    std::shared_ptr<Module> layer = node.layer;
    step.layer = layer;
    if (node.output_shapes.size() == 1 && node.inputs.size() == 1 && readers[first] == 1) {
      // The one reader of this output: fuse the two calls when the planner knows how.
      for (size_t j = i + 1; j < calls_.size(); ++j) {
        const GraphNode& next = *calls_[j].node;
        if (next.inputs.size() != 1 || next.inputs[0].node().get() != &node) continue;
        if (next.output_shapes.size() == 1)
          if (auto fused = fuse(*layer, *next.layer)) {
            step.run = [fused = std::move(*fused)](const std::vector<Variable>& x) {
              return std::vector<Variable>{fused(x[0])};
            };
            step.outputs = {first_slot_.at(&next)};
            step.layer = nullptr;
            fused_away[j] = true;
          }
        break;
      }
    }
    if (!step.run) {
      if (node.inputs.size() == 1 && node.output_shapes.size() == 1)
        step.run = [layer](const std::vector<Variable>& x) { return std::vector<Variable>{(*layer)(x[0])}; };
      else
        step.run = [layer](const std::vector<Variable>& x) { return (*layer)(x); };
    }
    steps_.push_back(std::move(step));
  }
}

void Graph::check_inputs(const std::vector<Shape>& shapes) const {
  if (shapes.size() != inputs_.size()) fail("model: takes ", inputs_.size(), " inputs, got ", shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    const Shape& expected = inputs_[i].shape();
    const Shape& got = shapes[i];
    // Incremental decoding (generation.h) runs a sequence model on fewer steps than it was
    // made for: the steps axis may then be shorter.
    const bool fewer_steps = IncrementalDecoding::active() && expected.rank() >= 1 && got.rank() == expected.rank() + 1 &&
                             got[1] >= 1 && got[1] <= expected[0] &&
                             std::equal(expected.dims().begin() + 1, expected.dims().end(), got.dims().begin() + 2);
    if (!fewer_steps && (got.rank() != expected.rank() + 1 ||
                         !std::equal(expected.dims().begin(), expected.dims().end(), got.dims().begin() + 1)))
      fail(
          "model: input '", inputs_[i].node()->input_name, "' must be (batch",
          [&] {
            std::string dims;
            for (int64_t d : expected.dims()) dims += ", " + std::to_string(d);
            return dims;
          }(),
          "), got ", got);
  }
}

std::vector<Variable> Graph::run(const std::vector<Variable>& inputs) const {
  std::vector<Shape> shapes;
  for (const Variable& input : inputs) shapes.push_back(input.shape());
  check_inputs(shapes);
  std::vector<Variable> values(slots_);
  for (size_t i = 0; i < inputs.size(); ++i) values[i] = inputs[i];
  std::vector<Variable> args;
  for (const Step& step : steps_) {
    args.clear();
    for (size_t slot : step.inputs) args.push_back(values[slot]);
    std::vector<Variable> results = step.run(args);
    if (results.size() != step.outputs.size())
      fail("model: a layer returned ", results.size(), " outputs, expected ", step.outputs.size());
    for (size_t k = 0; k < results.size(); ++k) values[step.outputs[k]] = std::move(results[k]);
  }
  std::vector<Variable> outputs;
  for (size_t slot : output_slots_) outputs.push_back(values[slot]);
  return outputs;
}

std::vector<Tensor> Graph::predict(const std::vector<Tensor>& inputs) const {
  std::unique_lock lock(plans_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) {  // another thread runs the plans: this call runs the graph
    std::vector<Variable> values;
    for (const Tensor& input : inputs) values.emplace_back(input);
    std::vector<Tensor> outputs;
    for (const Variable& output : run(values)) outputs.push_back(output.value());
    return outputs;
  }
  auto same_shapes = [&](const auto& entry) {  // compared in place: no vector built for a call that finds its plan
    return std::equal(entry.first.begin(), entry.first.end(), inputs.begin(), inputs.end(),
                      [](const Shape& shape, const Tensor& input) { return shape == input.shape(); });
  };
  auto found = std::find_if(plans_.begin(), plans_.end(), same_shapes);
  if (found == plans_.end()) {
    std::vector<Shape> shapes;
    for (const Tensor& input : inputs) shapes.push_back(input.shape());
    check_inputs(shapes);
    if (plans_.size() == kKeptPlans) plans_.pop_back();
    plans_.insert(plans_.begin(), {shapes, std::make_unique<InferencePlan>(*this, shapes)});
  } else {
    std::rotate(plans_.begin(), found, found + 1);
  }
  std::vector<Tensor> outputs;
  for (const Tensor& output : plans_.front().second->run(inputs)) outputs.push_back(output.clone());
  return outputs;
}

}  // namespace axon::detail
