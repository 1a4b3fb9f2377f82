// Recurrent: the loop over time every recurrent layer shares, its weights and settings,
// and SimpleRNN's step. LSTM and GRU have their own files.
#include "axon/recurrent.h"

#include <algorithm>

#include "axon/generation.h"
#include "axon/initializers.h"
#include "axon/ops.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "simple_rnn", SimpleRNN);

Recurrent::Recurrent(int64_t units, int64_t gates, size_t states, RecurrentOptions recurrent_options,
                     WeightOptions options)
    : units_(units),
      gates_(gates),
      state_count_(states),
      recurrent_options_(recurrent_options),
      options_(std::move(options)),
      generator_(options_.seed ? *options_.seed + 1 : global_generator().next_u64()) {
  const char* layer = gates == 4 ? "LSTM" : gates == 3 ? "GRU" : "SimpleRNN";
  if (units < 1) fail(layer, ": units must be >= 1, got ", units);
  for (double rate : {recurrent_options.dropout, recurrent_options.recurrent_dropout})
    if (!(rate >= 0 && rate < 1)) fail(layer, ": dropout and recurrent_dropout must be in [0, 1), got ", rate);
}

namespace {

// A dropout mask of `shape`: 0 with probability rate, else 1 / (1 - rate).
Tensor dropout_mask(const Shape& shape, double rate, DType dtype, Generator& generator) {
  std::vector<double> values(static_cast<size_t>(shape.numel()));
  for (double& v : values) v = generator.uniform() < rate ? 0.0 : 1.0 / (1.0 - rate);
  return Tensor::from(values, shape).to(dtype);
}

}  // namespace

void Recurrent::create_weights_many(const std::vector<Shape>& input_shapes) {
  const Shape& x = input_shapes.at(0);
  if (x.rank() != 3) fail(type_name(), ": expects (batch, time, features) sequences, got ", x);
  const int64_t features = x[2], width = gates_ * units_;
  Generator seeded(options_.seed.value_or(0));
  Generator& generator = options_.seed ? seeded : global_generator();
  kernel_ = add_weight("kernel", options_.kernel_initializer(Shape{features, width}, features, width, generator), true,
                       options_.kernel_regularizer);
  recurrent_kernel_ = add_weight(
      "recurrent_kernel", Initializer(Initializer::Kind::orthogonal)(Shape{units_, width}, units_, width, generator));
  if (options_.use_bias) {
    Tensor bias = options_.bias_initializer(bias_shape(), features, width, generator);
    initialize_bias(bias);
    bias_ = add_weight("bias", std::move(bias), true, options_.bias_regularizer);
  }
}

Recurrent::Start Recurrent::start(const std::vector<Variable>& inputs) {
  const Variable& x = inputs.at(0);
  if (x.shape().rank() != 3 || x.dim(2) != kernel_.dim(0))
    fail(type_name(), ": expects (batch, time, ", kernel_.dim(0), ") sequences, got ", x.shape());
  const int64_t batch = x.dim(0);
  if (x.dim(1) < 1) fail(type_name(), ": the sequence has no steps");
  if (inputs.size() != 1 && inputs.size() != 1 + state_count_)
    fail(type_name(), ": takes the sequence and, optionally, ", state_count_, " initial state(s); got ", inputs.size(),
         " inputs");
  // Dropout while training: one mask of the input's features and one of h, for every step.
  // Inference writes nothing here: a served model may run on several threads at once.
  Variable input = x;
  if (training() && recurrent_options_.dropout > 0)
    input = x * Variable(dropout_mask(Shape{batch, 1, x.dim(2)}, recurrent_options_.dropout, x.dtype(), generator_));
  if (training())
    recurrent_mask_ = recurrent_options_.recurrent_dropout > 0 ? dropout_mask(Shape{batch, units_},
                                                                              recurrent_options_.recurrent_dropout,
                                                                              x.dtype(), generator_)
                                                               : Tensor();
  Start start{linear(input, kernel_, input_bias()), {}};
  IncrementalDecoding* decoding = IncrementalDecoding::active();
  if (decoding && recurrent_options_.go_backwards)
    fail(type_name(), ": incremental decoding cannot run a layer that reads the sequence from its end");
  const std::vector<Tensor>* carried = decoding ? &decoding->state(*this) : nullptr;
  for (size_t k = 0; k < state_count_; ++k) {
    if (inputs.size() == 1 && carried && carried->size() == state_count_) {  // the states the last run ended in
      start.states.emplace_back((*carried)[k]);
      continue;
    }
    if (inputs.size() == 1) {
      start.states.emplace_back(Tensor::zeros(Shape{batch, units_}, x.value().dtype()));
      continue;
    }
    if (inputs[1 + k].shape() != Shape{batch, units_})
      fail(type_name(), ": initial state ", k, " must be (", batch, ", ", units_, "), got ", inputs[1 + k].shape());
    start.states.push_back(inputs[1 + k]);
  }
  return start;
}

const Tensor& Recurrent::recurrent_dropout_mask() const {
  static const Tensor none;
  return training() ? recurrent_mask_ : none;
}

Variable Recurrent::recurrent_input(const Variable& h) const {
  const Tensor& mask = recurrent_dropout_mask();
  return mask.defined() ? h * Variable(mask) : h;
}

std::vector<Variable> Recurrent::outputs(Variable sequence, std::vector<Variable> final_states,
                                         const Tensor& mask) const {
  if (IncrementalDecoding* decoding = IncrementalDecoding::active()) {  // the next run starts from them
    std::vector<Tensor>& carried = decoding->state(*this);
    carried.clear();
    for (const Variable& state : final_states) carried.push_back(state.value());
  }
  if (recurrent_options_.return_sequences && mask.defined()) {  // the mask, in the order the steps ran
    Tensor ordered = mask.to(DType::f32);
    if (recurrent_options_.go_backwards) {
      const int64_t batch = mask.dim(0), time = mask.dim(1);
      for (int64_t b = 0; b < batch; ++b)
        std::reverse(ordered.data<float>() + b * time, ordered.data<float>() + (b + 1) * time);
    }
    sequence.set_mask(std::move(ordered));
  }
  std::vector<Variable> result{recurrent_options_.return_sequences ? sequence : final_states[0]};
  if (recurrent_options_.return_state) result.insert(result.end(), final_states.begin(), final_states.end());
  return result;
}

std::vector<Variable> Recurrent::forward_many(const std::vector<Variable>& inputs) {
  Start s = start(inputs);
  const int64_t batch = s.projected.dim(0), time = s.projected.dim(1);
  const Tensor& mask = inputs[0].mask();
  std::vector<Variable> steps;
  for (int64_t i = 0; i < time; ++i) {
    const int64_t t = recurrent_options_.go_backwards ? time - 1 - i : i;
    std::vector<Variable> next = step(reshape(slice(s.projected, 1, t, t + 1), {batch, gates_ * units_}), s.states);
    if (mask.defined()) {  // padding steps keep the states: state + m (next - state), m (batch, 1)
      std::vector<double> column(static_cast<size_t>(batch));
      for (int64_t b = 0; b < batch; ++b) column[static_cast<size_t>(b)] = mask.data<float>()[b * time + t];
      const Variable real(Tensor::from(column, Shape{batch, 1}).to(s.projected.dtype()));
      for (size_t k = 0; k < next.size(); ++k) next[k] = s.states[k] + real * (next[k] - s.states[k]);
    }
    s.states = std::move(next);
    if (recurrent_options_.return_sequences) steps.push_back(reshape(s.states[0], {batch, 1, units_}));
  }
  return outputs(recurrent_options_.return_sequences ? concat(steps, 1) : Variable(), s.states, mask);
}

Config Recurrent::recurrent_config() const {
  Config c = Config::object()
                 .set("units", units_)
                 .set("return_sequences", recurrent_options_.return_sequences)
                 .set("return_state", recurrent_options_.return_state)
                 .set("go_backwards", recurrent_options_.go_backwards);
  if (recurrent_options_.dropout > 0) c.set("dropout", recurrent_options_.dropout);
  if (recurrent_options_.recurrent_dropout > 0) c.set("recurrent_dropout", recurrent_options_.recurrent_dropout);
  return c;
}

Config Recurrent::config() const {
  Config c = recurrent_config();
  options_.write(c);
  return c;
}

RecurrentOptions Recurrent::read_recurrent_options(const ConfigReader& c) {
  return {.return_sequences = c.boolean_or("return_sequences", false),
          .return_state = c.boolean_or("return_state", false),
          .go_backwards = c.boolean_or("go_backwards", false),
          .dropout = c.number_or("dropout", 0, 0, 1, true),
          .recurrent_dropout = c.number_or("recurrent_dropout", 0, 0, 1, true)};
}

std::shared_ptr<SimpleRNN> SimpleRNN::from_config(const ConfigReader& c) {
  return std::make_shared<SimpleRNN>(c.integer("units", 1), read_recurrent_options(c), WeightOptions::read(c));
}

// h = tanh(x W + b + h U)
std::vector<Variable> SimpleRNN::step(const Variable& x_t, const std::vector<Variable>& states) {
  return {tanh(x_t + matmul(recurrent_input(states[0]), recurrent_kernel_))};
}

}  // namespace axon
