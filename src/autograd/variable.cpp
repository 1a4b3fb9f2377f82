#include "axon/variable.h"

#include <cstring>
#include <unordered_set>

#include "kernels/elementwise.h"

namespace axon {

namespace detail {

struct Node {
  Tensor value;
  Tensor grad;
  bool requires_grad = false;
  const char* op = "leaf";
  std::vector<std::shared_ptr<Node>> inputs;
  BackwardFn backward;
  Tensor mask;  // (batch, steps) of 0/1, or undefined

  // Tears the graph down iteratively: the default recursive destruction of a long
  // chain (say 100,000 ops) would overflow the stack.
  ~Node() {
    std::vector<std::shared_ptr<Node>> pending = std::move(inputs);
    while (!pending.empty()) {
      std::shared_ptr<Node> node = std::move(pending.back());
      pending.pop_back();
      if (node && node.use_count() == 1) {
        for (auto& input : node->inputs) pending.push_back(std::move(input));
        node->inputs.clear();
      }
    }
  }
};

}  // namespace detail

using detail::Node;

namespace {

thread_local bool grad_mode = true;

void require(const std::shared_ptr<Node>& node, const char* what) {
  if (!node) fail(what, ": Variable is undefined");
}

// Adds g into node's gradient. Never writes into an existing gradient tensor (it may
// be shared with another node's), so the first one is kept as is.
void accumulate(Node& node, const Tensor& g) {
  if (g.shape() != node.value.shape())
    fail("backward: op '", node.op, "' produced a gradient of shape ", g.shape(), " for a value of shape ",
         node.value.shape());
  node.grad = node.grad.defined() ? kernels::binary(kernels::Binary::add, node.grad, g) : g;
}

// Nodes reachable from root that require grad, each after all nodes it feeds into
// (reverse topological order), found with an explicit stack.
std::vector<Node*> reverse_topological_order(Node* root) {
  std::vector<Node*> order;
  std::unordered_set<Node*> visited;
  std::vector<std::pair<Node*, size_t>> stack{{root, 0}};
  visited.insert(root);
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      Node* input = node->inputs[next++].get();
      if (input->requires_grad && visited.insert(input).second) stack.push_back({input, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return {order.rbegin(), order.rend()};
}

}  // namespace

const std::vector<const char*>& registered_ops() {
  static const std::vector<const char*> ops = {"add",          "sub",
                                               "mul",          "div",
                                               "pow",          "neg",
                                               "exp",          "log",
                                               "sqrt",         "abs",
                                               "square",       "pow_scalar",
                                               "clamp",        "relu",
                                               "leaky_relu",   "elu",
                                               "gelu",         "silu",
                                               "sigmoid",      "tanh",
                                               "sum",          "sum_axis",
                                               "mean",         "mean_axis",
                                               "matmul",       "linear",
                                               "softmax",      "softmax_axis",
                                               "log_softmax",  "softmax_cross_entropy",
                                               "reshape",      "transpose",
                                               "concat",       "slice",
                                               "index_select", "batch_norm",
                                               "conv2d",       "conv2d_max_pool2d",
                                               "max_pool2d",   "avg_pool2d",
                                               "lstm_sequence", "max_axis",
                                               "permute",      "layer_norm",
                                               "attention",    "gru_sequence"};
  return ops;
}

bool grad_enabled() { return grad_mode; }
NoGrad::NoGrad() : previous_(grad_mode) { grad_mode = false; }
NoGrad::~NoGrad() { grad_mode = previous_; }

Variable::Variable(Tensor value, bool requires_grad) : node_(std::make_shared<Node>()) {
  if (!value.defined()) fail("Variable: value is undefined");
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
}

Variable Variable::make(const char* op, Tensor value, const std::vector<Variable>& inputs, BackwardFn backward) {
  static const auto known = [] {
    std::unordered_set<std::string_view> names;
    for (const char* name : registered_ops()) names.insert(name);
    return names;
  }();
  if (!known.contains(op)) fail("Variable::make: op '", op, "' is not in registered_ops()");
  Variable result(std::move(value));
  result.node_->op = op;
  // The inputs stay readable through input(i) in every mode; the backward rule only
  // when a gradient will flow.
  result.node_->inputs.reserve(inputs.size());
  for (const Variable& input : inputs) result.node_->inputs.push_back(input.node_);
  if (!grad_mode) return result;
  bool any = false;
  for (const Variable& input : inputs) any = any || input.requires_grad();
  if (!any) return result;
  result.node_->requires_grad = true;
  result.node_->backward = std::move(backward);
  return result;
}

const Tensor& Variable::value() const {
  require(node_, "value");
  return node_->value;
}
Tensor& Variable::value() {
  require(node_, "value");
  return node_->value;
}
const Tensor& Variable::grad() const {
  require(node_, "grad");
  return node_->grad;
}
bool Variable::requires_grad() const { return node_ && node_->requires_grad; }
void Variable::set_requires_grad(bool requires_grad) {
  require(node_, "set_requires_grad");
  if (std::strcmp(node_->op, "leaf") != 0)
    fail("set_requires_grad: only leaf Variables can change it (this one is from '", node_->op, "')");
  node_->requires_grad = requires_grad;
}
const char* Variable::op() const {
  require(node_, "op");
  return node_->op;
}
void Variable::zero_grad() {
  require(node_, "zero_grad");
  node_->grad = Tensor();
}
Variable Variable::detach() const { return Variable(value(), false); }

const Tensor& Variable::mask() const {
  require(node_, "mask");
  return node_->mask;
}

void Variable::set_mask(Tensor mask) {
  require(node_, "set_mask");
  if (mask.defined() && (mask.rank() != 2 || rank() < 2 || mask.dim(0) != dim(0) || mask.dim(1) != dim(1)))
    fail("Variable::set_mask: a mask must be (batch, steps) of a (batch, steps, ...) value; got ", mask.shape(),
         " for ", shape());
  node_->mask = mask.defined() && mask.dtype() != DType::f32 ? mask.to(DType::f32) : std::move(mask);
}

size_t Variable::input_count() const {
  require(node_, "input_count");
  return node_->inputs.size();
}

Variable Variable::input(size_t i) const {
  require(node_, "input");
  if (i >= node_->inputs.size())
    fail("Variable::input: '", node_->op, "' has ", node_->inputs.size(), " inputs, asked for input ", i);
  Variable result;
  result.node_ = node_->inputs[i];
  return result;
}

void Variable::backward() {
  require(node_, "backward");
  if (node_->value.numel() != 1)
    fail("backward: output of shape ", node_->value.shape(), " is not a scalar; pass grad_output");
  backward(Tensor::ones(node_->value.shape(), node_->value.dtype()));
}

void Variable::set_grad(Tensor grad) {
  require(node_, "set_grad");
  if (grad.shape() != node_->value.shape() || grad.dtype() != node_->value.dtype())
    fail("set_grad: gradient ", grad.shape(), " does not match the value ", node_->value.shape());
  node_->grad = std::move(grad);
}

void Variable::backward(const Tensor& grad_output) { backward(grad_output, nullptr); }

void Variable::backward(const Tensor& grad_output, const GradientReady& ready) {
  require(node_, "backward");
  if (!node_->requires_grad) fail("backward: output of '", node_->op, "' does not require grad");
  if (grad_output.shape() != node_->value.shape() || grad_output.dtype() != node_->value.dtype())
    fail("backward: grad_output ", grad_output.shape(), " does not match output ", node_->value.shape());
  const std::vector<Node*> order = reverse_topological_order(node_.get());
  accumulate(*node_, grad_output);
  for (Node* node : order) {
    if (!node->backward && std::strcmp(node->op, "leaf") == 0) {  // a leaf: every consumer is done, its gradient stays
      if (ready && node->grad.defined()) ready(node, node->grad);
      continue;
    }
    if (!node->backward) fail("backward: the graph through '", node->op, "' was already used by an earlier backward()");
    if (node->grad.defined()) {
      std::vector<bool> needs;
      for (const auto& input : node->inputs) needs.push_back(input->requires_grad);
      const std::vector<Tensor> grads = node->backward(node->grad, needs);
      for (size_t i = 0; i < node->inputs.size(); ++i)
        if (needs[i] && grads.at(i).defined()) accumulate(*node->inputs[i], grads[i]);
    }
    // The graph is spent: free intermediate gradients and the rules' saved tensors.
    node->grad = Tensor();
    node->backward = nullptr;
  }
}

}  // namespace axon
