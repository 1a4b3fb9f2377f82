#include "axon/module.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "axon/functional.h"
#include "axon/ops.h"
#include "axon/registry.h"
#include "nn/typed_config.h"

namespace axon {

namespace {

std::vector<Shape> shapes_of(const std::vector<Variable>& values, const std::string& who) {
  std::vector<Shape> shapes;
  for (const Variable& v : values) {
    if (!v.defined()) fail(who, ": input is undefined");
    shapes.push_back(v.shape());
  }
  return shapes;
}

std::array<uint64_t, 6> words_of(const std::string& text, const std::string& what) {
  std::array<uint64_t, 6> words{};
  std::istringstream in(text);
  std::string part;
  size_t i = 0;
  while (std::getline(in, part, ',')) {
    if (i >= words.size() || part.empty() || part.size() > 20 ||
        part.find_first_not_of("0123456789") != std::string::npos)
      fail(what, ": malformed generator state '", text, "'");
    words[i++] = std::stoull(part);
  }
  if (i != words.size()) fail(what, ": malformed generator state '", text, "'");
  if (words[0] == 0 && words[1] == 0 && words[2] == 0 && words[3] == 0)
    fail(what, ": generator state '", text, "' is all zero; xoshiro256** would only ever draw 0");
  return words;
}

}  // namespace

void StateArchive::text(const std::string& key, std::string& value) {
  const std::string full = prefix_ + key;
  if (!loading_) {
    values_[full] = value;
    return;
  }
  const auto it = values_.find(full);
  if (it == values_.end()) fail("state '", full, "' is missing");
  value = it->second;
}

void StateArchive::generator(const std::string& key, Generator& generator) {
  std::string text;
  if (!loading_) {
    for (uint64_t word : generator.state()) text += (text.empty() ? "" : ",") + std::to_string(word);
    this->text(key, text);
    return;
  }
  this->text(key, text);
  generator.set_state(words_of(text, "state '" + prefix_ + key + "'"));
}

std::string snake_case(const std::string& type_name) {
  std::string out;
  for (size_t i = 0; i < type_name.size(); ++i) {
    const char c = type_name[i];
    const bool upper = std::isupper(static_cast<unsigned char>(c));
    // A capital starts a word after a lower-case letter ("MaxPool" -> "max_pool"), and
    // "Conv2D" stays "conv2d": a capital after a digit joins the word before it.
    if (upper && i > 0 && std::islower(static_cast<unsigned char>(type_name[i - 1]))) out += '_';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string unique_name(const std::string& base, std::set<std::string>& taken) {
  std::string name = base;
  for (int k = 1; taken.contains(name); ++k) name = base + "_" + std::to_string(k);
  taken.insert(name);
  return name;
}

void Module::set_name(std::string name) {
  if (name.empty()) fail(type_name(), ": a name cannot be empty");
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      fail(type_name(), ": name '", name, "' may hold only letters, digits, '_', '-' and '.'");
  name_ = std::move(name);
}

Variable Module::operator()(const Variable& x) {
  if (!x.defined()) fail(type_name(), ": input is undefined");
  if (!built_) build_for({x.shape()});
  const Variable y = forward(x);
  if (x.mask().defined()) {  // a handle: pass_masks marks y itself
    std::vector<Variable> outputs{y};
    pass_masks({x}, outputs);
  }
  if (output_shapes_.size() != 1 || !std::equal(y.shape().dims().begin() + 1, y.shape().dims().end(),
                                                output_shapes_[0].dims().begin(), output_shapes_[0].dims().end()))
    note_outputs({y});
  return y;
}

std::vector<Variable> Module::operator()(const std::vector<Variable>& inputs) {
  const std::vector<Shape> shapes = shapes_of(inputs, type_name());
  if (!built_) build_for(shapes);
  std::vector<Variable> outputs = forward_many(inputs);
  pass_masks(inputs, outputs);
  note_outputs(outputs);
  return outputs;
}

void Module::pass_masks(const std::vector<Variable>& inputs, std::vector<Variable>& outputs) const {
  if (!propagates_mask()) return;
  for (Variable& y : outputs) {
    if (y.mask().defined() || y.rank() < 3) continue;
    Tensor mask;
    for (const Variable& x : inputs) {
      const Tensor& m = x.mask();
      if (!m.defined() || m.dim(0) != y.dim(0) || m.dim(1) != y.dim(1)) continue;
      if (!mask.defined()) {
        mask = m;
        continue;
      }
      Tensor both = m.clone();  // float32 0/1 (Variable::set_mask)
      for (int64_t i = 0; i < both.numel(); ++i) both.data<float>()[i] *= mask.data<float>()[i];
      mask = both;
    }
    if (mask.defined()) y.set_mask(mask);
  }
}

Variable Module::forward(const Variable& x) {
  if (in_default_forward_) fail(type_name(), ": overrides neither forward nor forward_many");
  in_default_forward_ = true;
  std::vector<Variable> outputs;
  try {
    outputs = forward_many({x});
  } catch (...) {
    in_default_forward_ = false;
    throw;
  }
  in_default_forward_ = false;
  if (outputs.size() != 1) fail(type_name(), ": returns ", outputs.size(), " outputs; call it with a list of inputs");
  return outputs[0];
}

std::vector<Variable> Module::forward_many(const std::vector<Variable>& inputs) {
  if (inputs.size() != 1) fail(type_name(), ": takes one input, got ", inputs.size());
  return {forward(inputs[0])};
}

void Module::create_weights_many(const std::vector<Shape>& input_shapes) {
  if (input_shapes.size() != 1) fail(type_name(), ": takes one input, got ", input_shapes.size());
  create_weights(input_shapes[0]);
}

void Module::build_for(const std::vector<Shape>& input_shapes) {
  create_weights_many(input_shapes);
  built_ = true;
}

void Module::note_outputs(const std::vector<Variable>& outputs) {
  output_shapes_.clear();
  for (const Variable& y : outputs) {
    const std::vector<int64_t>& dims = y.shape().dims();
    output_shapes_.push_back(dims.empty() ? Shape() : Shape(std::vector<int64_t>(dims.begin() + 1, dims.end())));
  }
}

const Shape& Module::output_shape() const {
  static const Shape none;
  return output_shapes_.empty() ? none : output_shapes_.front();
}

std::shared_ptr<Module> Module::owned_for_graph(bool allow_copy) {
  if (std::shared_ptr<Module> self = weak_from_this().lock()) return self;
  if (!allow_copy)
    fail(type_name(), ": a layer called on symbolic tensors must be owned by a std::shared_ptr (std::make_shared<",
         type_name(), ">(...)) so the model can hold it, or be a temporary");
  if (built_) fail(type_name(), ": a built temporary layer cannot join a graph; make it with std::make_shared");
  const Config config = detail::typed_config(*this);
  const ConfigReader reader(config, type_name());
  std::shared_ptr<Module> copy = Registry<Module>::instance().create(reader);
  if (!name_.empty()) copy->set_name(name_);
  return copy;
}

SymbolicTensor Module::operator()(const SymbolicTensor& x) & {
  return detail::call_symbolic(owned_for_graph(false), {x});
}
SymbolicTensor Module::operator()(const SymbolicTensor& x) && {
  return detail::call_symbolic(owned_for_graph(true), {x});
}
SymbolicTensors Module::operator()(const std::vector<SymbolicTensor>& inputs) & {
  return detail::call_symbolic(owned_for_graph(false), inputs);
}
SymbolicTensors Module::operator()(const std::vector<SymbolicTensor>& inputs) && {
  return detail::call_symbolic(owned_for_graph(true), inputs);
}

std::vector<NamedParameter> Module::named_parameters() const {
  std::vector<NamedParameter> all = parameters_;
  for (const auto& [prefix, child] : children_)
    for (NamedParameter p : child->named_parameters()) {
      p.name = prefix + "." + p.name;
      all.push_back(std::move(p));
    }
  return all;
}

std::vector<Variable> Module::parameters() const {
  std::vector<Variable> all;
  for (const NamedParameter& p : named_parameters()) all.push_back(p.variable);
  return all;
}

std::vector<Variable> Module::trainable_parameters() const {
  std::vector<Variable> all;
  for (const NamedParameter& p : named_parameters())
    if (p.trainable) all.push_back(p.variable);
  return all;
}

int64_t Module::parameter_count() const {
  int64_t total = 0;
  for (const NamedParameter& p : named_parameters()) total += p.variable.numel();
  return total;
}

int64_t Module::trainable_parameter_count() const {
  int64_t total = 0;
  for (const NamedParameter& p : named_parameters())
    if (p.trainable) total += p.variable.numel();
  return total;
}

Variable Module::regularization_loss() const {
  Variable total;
  for (const NamedParameter& p : named_parameters()) {
    if (!p.regularizer.active()) continue;
    const Variable penalty = p.regularizer(p.variable);
    total = total.defined() ? total + penalty : penalty;
  }
  return total;
}

void Module::train(bool training) {
  training_ = training;
  for (auto& [name, child] : children_) child->train(training);
}

void Module::weights_replaced() {
  on_weights_replaced();
  for (auto& [name, child] : children_) child->weights_replaced();
}

std::vector<std::string> Module::export_onnx(OnnxGraph&, const std::vector<std::string>&,
                                             const std::vector<Shape>&) const {
  fail("save_onnx: the layer '", name(), "' (", type_name(), ") has no ONNX form");
}

void Module::set_trainable(bool trainable) {
  frozen_ = !trainable;
  for (NamedParameter& p : parameters_) {
    p.trainable = trainable && p.learnable;
    p.variable.set_requires_grad(p.trainable);
  }
  for (auto& [name, child] : children_) child->set_trainable(trainable);
}

Variable Module::add_weight(const std::string& name, Tensor value, bool trainable, Regularizer regularizer) {
  for (const NamedParameter& p : parameters_)
    if (p.name == name) fail(type_name(), ": weight '", name, "' added twice");
  const bool learnable = trainable;
  trainable = trainable && !frozen_;
  Variable variable(std::move(value), trainable);
  parameters_.push_back({name, variable, trainable, regularizer, learnable});
  return variable;
}

void Module::add_module(const std::string& name, std::shared_ptr<Module> module) {
  if (!module) fail(type_name(), ": module '", name, "' is null");
  for (const auto& [existing, child] : children_)
    if (existing == name) fail(type_name(), ": module '", name, "' added twice");
  children_.emplace_back(name, std::move(module));
}

}  // namespace axon
