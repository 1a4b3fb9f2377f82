// Recurrent layers and Embedding: LSTM and GRU against PyTorch's nn.LSTM and nn.GRU on
// the same weights (tests/fixtures/recurrent, made by make_recurrent_fixtures.py
// there), SimpleRNN and GRU without reset_after against naive loops here, the options
// (go_backwards, initial states, return_state), round trips through spec and model
// file, training, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "axon/axon.h"
#include "error_of.h"
#include "kernels/gru.h"
#include "kernels/lstm.h"
#include "max_difference.h"

namespace axon {
namespace {

using test_support::max_difference;

using test_support::error_of;

std::string spec_error(const std::string& spec) {
  return error_of([&] { model_from_spec(spec); });
}

std::string fixture(const std::string& name) {
  return std::string(AXON_SOURCE_DIR) + "/tests/fixtures/recurrent/" + name + ".npy";
}

// Runs `layer` on the fixture's x with the fixture's weights; returns its outputs.
std::vector<Tensor> run_with_fixture_weights(Module& layer, const std::string& name) {
  const Variable x(read_npy(fixture("x")));
  layer(std::vector<Variable>{x});  // builds the weights
  std::vector<NamedParameter> parameters = layer.named_parameters();
  for (NamedParameter& p : parameters) p.variable.value().copy_from(read_npy(fixture(name + "_" + p.name)));
  std::vector<Tensor> outputs;
  for (const Variable& v : layer(std::vector<Variable>{x})) outputs.push_back(v.value());
  return outputs;
}

TEST(Recurrent, LstmGivesPyTorchsOutputsAndStates) {
  LSTM lstm(4, {.return_sequences = true, .return_state = true});
  const std::vector<Tensor> out = run_with_fixture_weights(lstm, "lstm");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_LT(max_difference(out[0], read_npy(fixture("lstm_y"))), 1e-5);
  EXPECT_LT(max_difference(out[1], read_npy(fixture("lstm_h"))), 1e-5);
  EXPECT_LT(max_difference(out[2], read_npy(fixture("lstm_c"))), 1e-5);
}

TEST(Recurrent, GruGivesPyTorchsOutputsAndState) {
  GRU gru(4, {.return_sequences = true, .return_state = true});
  const std::vector<Tensor> out = run_with_fixture_weights(gru, "gru");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_LT(max_difference(out[0], read_npy(fixture("gru_y"))), 1e-5);
  EXPECT_LT(max_difference(out[1], read_npy(fixture("gru_h"))), 1e-5);
}

// Naive loops in double: x (B, T, F), weights in Keras's layout.
struct Weights {
  std::vector<double> kernel, recurrent, bias;  // (F, G U), (U, G U), (G U) or (2, G U)
};

Weights weights_of(const Recurrent& layer) {
  return {layer.kernel().value().to_vector(), layer.recurrent_kernel().value().to_vector(),
          layer.bias().value().to_vector()};
}

// a (n) x m (n, cols) -> (cols), over columns [from, from + count).
std::vector<double> times(const std::vector<double>& a, const std::vector<double>& m, int64_t cols, int64_t from,
                          int64_t count) {
  std::vector<double> out(static_cast<size_t>(count), 0.0);
  for (size_t i = 0; i < a.size(); ++i)
    for (int64_t j = 0; j < count; ++j)
      out[static_cast<size_t>(j)] += a[i] * m[i * static_cast<size_t>(cols) + static_cast<size_t>(from + j)];
  return out;
}

double sigmoid_of(double v) { return 1 / (1 + std::exp(-v)); }

// The last h of SimpleRNN (gates 1) or GRU without reset_after (gates 3) for one sequence.
std::vector<double> naive_last(const std::vector<double>& x, int64_t time, int64_t features, int64_t units,
                               const Weights& w, int64_t gates) {
  const int64_t width = gates * units;
  std::vector<double> h(static_cast<size_t>(units), 0.0);
  for (int64_t t = 0; t < time; ++t) {
    const std::vector<double> xt(x.begin() + t * features, x.begin() + (t + 1) * features);
    std::vector<double> next(static_cast<size_t>(units));
    if (gates == 1) {
      const auto a = times(xt, w.kernel, width, 0, units), b = times(h, w.recurrent, width, 0, units);
      for (int64_t j = 0; j < units; ++j) next[j] = std::tanh(a[j] + b[j] + w.bias[j]);
    } else {
      const auto xz = times(xt, w.kernel, width, 0, units), xr = times(xt, w.kernel, width, units, units),
                 xh = times(xt, w.kernel, width, 2 * units, units);
      const auto hz = times(h, w.recurrent, width, 0, units), hr = times(h, w.recurrent, width, units, units);
      std::vector<double> z(static_cast<size_t>(units)), rh(static_cast<size_t>(units));
      for (int64_t j = 0; j < units; ++j) {
        z[j] = sigmoid_of(xz[j] + hz[j] + w.bias[j]);
        rh[j] = sigmoid_of(xr[j] + hr[j] + w.bias[units + j]) * h[j];
      }
      const auto candidate_h = times(rh, w.recurrent, width, 2 * units, units);
      for (int64_t j = 0; j < units; ++j) {
        const double candidate = std::tanh(xh[j] + candidate_h[j] + w.bias[2 * units + j]);
        next[j] = z[j] * h[j] + (1 - z[j]) * candidate;
      }
    }
    h = next;
  }
  return h;
}

void expect_naive(Recurrent& layer, int64_t gates) {
  const Tensor x = Generator(4).normal(Shape{3, 6, 5}, 0.0, 1.0);
  const Tensor y = layer(Variable(x)).value();
  const std::vector<double> all = x.to_vector(), got = y.to_vector();
  for (int64_t b = 0; b < 3; ++b) {
    const std::vector<double> one(all.begin() + b * 30, all.begin() + (b + 1) * 30);
    const std::vector<double> expected = naive_last(one, 6, 5, layer.units(), weights_of(layer), gates);
    for (int64_t j = 0; j < layer.units(); ++j) EXPECT_NEAR(got[b * layer.units() + j], expected[j], 1e-5);
  }
}

TEST(Recurrent, TheFusedLstmEqualsTheStepByStepCompositionWithItsGradients) {
  const Tensor x = Generator(14).normal(Shape{3, 7, 5}, 0.0, 1.0);
  for (const bool backwards : {false, true}) {
    LSTM lstm(6, {.return_sequences = true, .return_state = true, .go_backwards = backwards}, {.seed = 4});
    const Variable input(x, true);
    const std::vector<Variable> fused = lstm(std::vector<Variable>{input});
    sum(fused[0] * fused[0]).backward();  // a loss that weighs each output differently
    const Tensor fused_grad = input.grad().clone(), fused_kernel_grad = lstm.recurrent_kernel().grad().clone();
    for (Variable& p : lstm.parameters()) p.zero_grad();
    const Variable again(x, true);
    const std::vector<Variable> stepped = lstm.Recurrent::forward_many({again});  // one step at a time
    sum(stepped[0] * stepped[0]).backward();
    for (size_t k = 0; k < 3; ++k) EXPECT_LT(max_difference(fused[k].value(), stepped[k].value()), 1e-6);
    EXPECT_LT(max_difference(fused_grad, again.grad()), 1e-5);
    EXPECT_LT(max_difference(fused_kernel_grad, lstm.recurrent_kernel().grad()), 1e-5);
  }
}

// A layer's fused op against the step-by-step composition (Recurrent::forward_many) of
// an identical layer, training: outputs, and the gradients of x and the recurrent kernel.
// Both are built at inference first, which draws no dropout mask, so they draw the same.
void expect_fused_equals_stepped(Recurrent& fused, Recurrent& stepped, const Tensor& x) {
  for (Recurrent* layer : {&fused, &stepped}) {
    layer->eval();
    (*layer)(Variable(x));
    layer->train();
  }
  const Variable a(x, true), b(x, true);
  const Variable y = fused(a), z = stepped.Recurrent::forward_many({b})[0];
  EXPECT_LT(max_difference(y.value(), z.value()), 1e-6);
  sum(y * y).backward();
  sum(z * z).backward();
  EXPECT_LT(max_difference(a.grad(), b.grad()), 1e-5);
  EXPECT_LT(max_difference(fused.recurrent_kernel().grad(), stepped.recurrent_kernel().grad()), 1e-5);
}

TEST(Recurrent, DropoutAndRecurrentDropoutTrainOnlyAndTheFusedLstmAppliesThemAsTheSteps) {
  const Tensor x = Generator(16).normal(Shape{3, 6, 5}, 0.0, 1.0);
  const RecurrentOptions dropping{.return_sequences = true, .dropout = 0.3, .recurrent_dropout = 0.4};
  // Two layers of one seed draw the same masks: one runs fused, the other step by step.
  LSTM fused(6, dropping, {.seed = 4}), stepped(6, dropping, {.seed = 4});
  expect_fused_equals_stepped(fused, stepped, x);
  // Off at inference: the same as a layer without dropout on the same weights.
  LSTM plain(6, {.return_sequences = true}, {.seed = 4});
  fused.eval();
  EXPECT_EQ(max_difference(fused(Variable(x)).value(), plain(Variable(x)).value()), 0.0);
  fused.train();
  EXPECT_GT(max_difference(fused(Variable(x)).value(), plain(Variable(x)).value()), 1e-3);
  for (auto layer : std::vector<std::shared_ptr<Recurrent>>{std::make_shared<GRU>(4, dropping, true, WeightOptions{}),
                                                            std::make_shared<SimpleRNN>(4, dropping)}) {
    layer->eval();
    const Tensor quiet = (*layer)(Variable(x)).value();
    layer->train();
    EXPECT_GT(max_difference((*layer)(Variable(x)).value(), quiet), 1e-3) << layer->type_name();
    EXPECT_EQ(layer->config().find("recurrent_dropout")->as_number(), 0.4);
  }
  EXPECT_NE(error_of([] { LSTM(2, {.dropout = 1.0}); }).find("dropout"), std::string::npos);
}

TEST(Recurrent, TheFusedGruEqualsTheStepByStepCompositionWithItsGradients) {
  const Tensor x = Generator(17).normal(Shape{3, 7, 5}, 0.0, 1.0);
  for (const bool backwards : {false, true}) {
    const RecurrentOptions options{.return_sequences = true, .go_backwards = backwards, .recurrent_dropout = 0.3};
    GRU fused(6, options, true, {.seed = 5}), stepped(6, options, true, {.seed = 5});  // the same masks
    expect_fused_equals_stepped(fused, stepped, x);
    EXPECT_LT(max_difference(fused.bias().grad(), stepped.bias().grad()), 1e-5);
  }
  Generator generator(18);
  const Tensor projected = generator.normal(Shape{2, 5, 12}, 0.0, 1.0), w = generator.normal(Shape{4, 12}, 0.0, 0.5),
               bias = generator.normal(Shape{12}, 0.0, 0.5), h0 = generator.normal(Shape{2, 4}, 0.0, 1.0),
               grad = generator.normal(Shape{2, 5, 4}, 0.0, 1.0);
  Tensor gates, naive_gates;
  const Tensor states = kernels::gru_forward(projected, w, bias, h0, false, gates);
  EXPECT_LT(max_difference(states, kernels::gru_forward_naive(projected, w, bias, h0, false, naive_gates)), 1e-5);
  const kernels::GruGradients fast = kernels::gru_backward(grad, states, gates, w, bias, h0, false);
  const kernels::GruGradients slow = kernels::gru_backward_naive(grad, states, gates, w, bias, h0, false);
  EXPECT_LT(max_difference(fast.recurrent, slow.recurrent), 1e-4);
  EXPECT_LT(max_difference(fast.h0, slow.h0), 1e-4);
}

TEST(Recurrent, TheLstmKernelEqualsItsNaiveReference) {
  Generator generator(15);
  const Tensor projected = generator.normal(Shape{4, 6, 20}, 0.0, 1.0),
               recurrent = generator.normal(Shape{5, 20}, 0.0, 0.5), h0 = generator.normal(Shape{4, 5}, 0.0, 1.0),
               c0 = generator.normal(Shape{4, 5}, 0.0, 1.0), grad = generator.normal(Shape{4, 6, 10}, 0.0, 1.0);
  for (const bool reverse : {false, true}) {
    Tensor gates, naive_gates;
    const Tensor states = kernels::lstm_forward(projected, recurrent, h0, c0, reverse, gates);
    const Tensor naive = kernels::lstm_forward_naive(projected, recurrent, h0, c0, reverse, naive_gates);
    EXPECT_LT(max_difference(states, naive), 1e-5);
    const kernels::LstmGradients fast = kernels::lstm_backward(grad, states, gates, recurrent, h0, c0, reverse);
    const kernels::LstmGradients slow = kernels::lstm_backward_naive(grad, states, gates, recurrent, h0, c0, reverse);
    EXPECT_LT(max_difference(fast.projected, slow.projected), 1e-4);
    EXPECT_LT(max_difference(fast.recurrent, slow.recurrent), 1e-4);
    EXPECT_LT(max_difference(fast.h0, slow.h0), 1e-4);
    EXPECT_LT(max_difference(fast.c0, slow.c0), 1e-4);
  }
}

TEST(Recurrent, SimpleRnnAndGruWithoutResetAfterMatchNaiveLoops) {
  WeightOptions random_bias{.bias_initializer = Initializer::Kind::glorot_uniform, .seed = 5};
  SimpleRNN rnn(7, {}, random_bias);
  expect_naive(rnn, 1);
  GRU gru(7, {}, /*reset_after=*/false, random_bias);
  expect_naive(gru, 3);
  EXPECT_EQ(gru.bias().shape(), Shape{21});
}

// x reversed along time.
Tensor reversed(const Tensor& x) {
  const int64_t batch = x.dim(0), time = x.dim(1), features = x.dim(2);
  Tensor y = Tensor::empty(x.shape());
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < time; ++t)
      for (int64_t f = 0; f < features; ++f)
        y.data<float>()[(b * time + t) * features + f] = x.data<float>()[(b * time + time - 1 - t) * features + f];
  return y;
}

TEST(Recurrent, GoBackwardsReadsTheSequenceFromItsEnd) {
  const Tensor x = Generator(6).normal(Shape{2, 5, 3}, 0.0, 1.0);
  LSTM forwards(4, {.return_sequences = true, .go_backwards = false}, {.seed = 9});
  LSTM backwards(4, {.return_sequences = true, .go_backwards = true}, {.seed = 9});
  EXPECT_LT(max_difference(backwards(Variable(x)).value(), forwards(Variable(reversed(x))).value()), 1e-6);
}

TEST(Recurrent, InitialStatesContinueASequence) {
  const Tensor x = Generator(7).normal(Shape{2, 6, 3}, 0.0, 1.0);
  Tensor head = Tensor::empty(Shape{2, 3, 3}), tail = Tensor::empty(Shape{2, 3, 3});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < 9; ++i) {
      head.data<float>()[b * 9 + i] = x.data<float>()[b * 18 + i];
      tail.data<float>()[b * 9 + i] = x.data<float>()[b * 18 + 9 + i];
    }
  for (const bool lstm : {true, false}) {
    std::shared_ptr<Recurrent> layer;
    if (lstm)
      layer = std::make_shared<LSTM>(4, RecurrentOptions{.return_state = true}, WeightOptions{.seed = 2});
    else
      layer = std::make_shared<GRU>(4, RecurrentOptions{.return_state = true}, true, WeightOptions{.seed = 2});
    const std::vector<Variable> whole = (*layer)(std::vector<Variable>{Variable(x)});
    std::vector<Variable> resumed = (*layer)(std::vector<Variable>{Variable(head)});
    resumed[0] = Variable(tail);
    const std::vector<Variable> rest = (*layer)(resumed);  // tail, h (, c)
    EXPECT_LT(max_difference(rest[0].value(), whole[0].value()), 1e-6);
  }
}

TEST(Recurrent, ModelsRoundTripThroughSpecAndModelFileAndTrain) {
  SymbolicTensor tokens = Input(Shape{8}, "tokens");
  SymbolicTensor h = LSTM(6, {.return_sequences = true})(Embedding(10, 5)(tokens));
  h = GRU(6)(h);
  SymbolicTensor other = SimpleRNN(3, {.go_backwards = true})(Embedding(10, 4)(tokens));
  Functional model({tokens}, {Dense(2, "softmax")(Concatenate()({h, other}))});
  model.compile(Adam(0.02), "sparse_categorical_crossentropy");
  // Label: does token 7 occur in the sequence?
  Generator generator(8);
  const int64_t n = 256;
  Tensor x = Tensor::empty(Shape{n, 8});
  std::vector<int32_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    bool seven = false;
    for (int64_t t = 0; t < 8; ++t) {
      const float id = static_cast<float>(static_cast<int64_t>(generator.uniform() * (i % 2 ? 7 : 10)));
      x.data<float>()[i * 8 + t] = id;
      seven = seven || id == 7;
    }
    labels.push_back(seven);
  }
  const Tensor y = Tensor::from(labels, Shape{n});
  const double before = model.evaluate(x, y).at("loss");
  model.fit(x, y, {.epochs = 15, .batch_size = 32, .verbose = 0});
  EXPECT_LT(model.evaluate(x, y).at("loss"), before / 2);

  const std::string path = (std::filesystem::temp_directory_path() / "axon_recurrent.safetensors").string();
  save_model(model, path);
  std::shared_ptr<Model> back = load_model(path);
  EXPECT_EQ(max_difference(back->predict(x), model.predict(x)), 0.0);
  EXPECT_EQ(model_to_spec(*back), model_to_spec(model));
  std::filesystem::remove(path);
}

TEST(Recurrent, BadInputNamesTheLayer) {
  LSTM lstm(3);
  EXPECT_NE(error_of([&] {
              lstm(Variable(Tensor::zeros(Shape{2, 4})));
            }).find("LSTM: expects (batch, time, features)"),
            std::string::npos);
  lstm(Variable(Tensor::zeros(Shape{2, 4, 5})));
  EXPECT_NE(error_of([&] {
              lstm(Variable(Tensor::zeros(Shape{2, 4, 6})));
            }).find("LSTM: expects (batch, time, 5)"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] {
        lstm(std::vector<Variable>{Variable(Tensor::zeros(Shape{2, 4, 5})), Variable(Tensor::zeros(Shape{2, 3}))});
      }).find("2 initial state(s)"),
      std::string::npos);
  EXPECT_NE(error_of([] { GRU(0); }).find("GRU: units must be >= 1"), std::string::npos);
}

// The parameters of `from` whose path starts with `prefix` into `to` (its own paths).
void copy_weights(const Module& from, const std::string& prefix, Module& to) {
  for (NamedParameter& target : to.named_parameters())
    for (const NamedParameter& source : from.named_parameters())
      if (source.name == prefix + target.name) target.variable.value().copy_from(source.variable.value());
}

TEST(Bidirectional, ConcatenatesTheForwardAndTheTimeAlignedBackwardOutputs) {
  const Tensor x = Generator(12).normal(Shape{2, 5, 3}, 0.0, 1.0);
  Bidirectional both(std::make_shared<LSTM>(4, RecurrentOptions{.return_sequences = true}));
  const Tensor y = both(Variable(x)).value();
  EXPECT_EQ(y.shape(), (Shape{2, 5, 8}));
  EXPECT_EQ(both.parameter_count(), 2 * (4 * (3 * 4 + 4 * 4 + 4)));
  LSTM ahead(4, {.return_sequences = true}), behind(4, {.return_sequences = true});
  ahead(Variable(x));
  behind(Variable(x));
  copy_weights(both, "forward_layer.", ahead);
  copy_weights(both, "backward_layer.", behind);
  // The backward layer reads x from its end: its output at position t is behind's at T-1-t on reversed x.
  const Tensor a = ahead(Variable(x)).value(), b = behind(Variable(reversed(x))).value();
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t t = 0; t < 5; ++t)
      for (int64_t j = 0; j < 4; ++j) {
        EXPECT_NEAR(y.data<float>()[(n * 5 + t) * 8 + j], a.data<float>()[(n * 5 + t) * 4 + j], 1e-6);
        EXPECT_NEAR(y.data<float>()[(n * 5 + t) * 8 + 4 + j], b.data<float>()[(n * 5 + 4 - t) * 4 + j], 1e-6);
      }
  Bidirectional sum(std::make_shared<GRU>(4), "sum");
  EXPECT_EQ(sum(Variable(x)).shape(), (Shape{2, 4}));
  EXPECT_NE(error_of([] { Bidirectional(std::make_shared<GRU>(4), "max"); }).find("merge_mode"), std::string::npos);
}

TEST(Bidirectional, AModelWithSequencePoolingTrainsAndRoundTrips) {
  SymbolicTensor x = Input(Shape{6, 2}, "x");
  SymbolicTensor h = Bidirectional(std::make_shared<GRU>(5, RecurrentOptions{.return_sequences = true}), "ave")(x);
  Functional model({x}, {Dense(1)(GlobalAveragePooling1D()(h))});
  model.compile(Adam(0.02), "mse");
  const Tensor inputs = Generator(13).normal(Shape{128, 6, 2}, 0.0, 1.0);
  Tensor targets = Tensor::empty(Shape{128, 1});  // the mean of the first feature
  for (int64_t n = 0; n < 128; ++n) {
    double total = 0;
    for (int64_t t = 0; t < 6; ++t) total += inputs.data<float>()[(n * 6 + t) * 2];
    targets.data<float>()[n] = static_cast<float>(total / 6);
  }
  const double before = model.evaluate(inputs, targets).at("loss");
  model.fit(inputs, targets, {.epochs = 20, .batch_size = 16, .verbose = 0});
  EXPECT_LT(model.evaluate(inputs, targets).at("loss"), before / 3);
  const std::string path = (std::filesystem::temp_directory_path() / "axon_bidirectional.safetensors").string();
  save_model(model, path);
  EXPECT_EQ(max_difference(load_model(path)->predict(inputs), model.predict(inputs)), 0.0);
  std::filesystem::remove(path);
  EXPECT_NE(
      spec_error(
          R"({"input_shape": [4, 2], "layers": [{"type": "bidirectional", "layer": {"type": "dense", "units": 2}}]})")
          .find("a recurrent layer"),
      std::string::npos);
}

TEST(SequencePooling, MaxAndAverageOverTimeWithTheMaxGradientOnTheLargest) {
  const Tensor x =
      Tensor::from(std::vector<float>{1, 5, 3, -2, 2, 0}, Shape{1, 3, 2});  // steps (1, 5), (3, -2), (2, 0)
  Variable input(x, true);
  GlobalMaxPooling1D top;
  const Variable y = top(input);
  EXPECT_EQ(y.value().to_vector(), (std::vector<double>{3, 5}));
  sum(y).backward();
  EXPECT_EQ(input.grad().to_vector(), (std::vector<double>{0, 1, 1, 0, 0, 0}));
  EXPECT_EQ(GlobalAveragePooling1D()(Variable(x)).value().to_vector(), (std::vector<double>{2, 1}));
  EXPECT_NE(error_of([&] {
              top(Variable(Tensor::zeros(Shape{2, 3})));
            }).find("GlobalMaxPooling1D: expects"),
            std::string::npos);
}

TEST(TimeDistributed, AppliesOneLayerToEveryStepAndRoundTrips) {
  const Tensor x = Generator(16).normal(Shape{2, 4, 5}, 0.0, 1.0);
  auto dense = std::make_shared<Dense>(3, "tanh");
  TimeDistributed each(dense);
  const Tensor y = each(Variable(x)).value();
  EXPECT_EQ(y.shape(), (Shape{2, 4, 3}));
  EXPECT_EQ(each.parameter_count(), 5 * 3 + 3);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t t = 0; t < 4; ++t) {
      const Tensor step = Tensor::from(
          std::vector<float>(x.data<float>() + (n * 4 + t) * 5, x.data<float>() + (n * 4 + t + 1) * 5), Shape{1, 5});
      const Tensor alone = (*dense)(Variable(step)).value();
      for (int64_t j = 0; j < 3; ++j) EXPECT_FLOAT_EQ(y.data<float>()[(n * 4 + t) * 3 + j], alone.data<float>()[j]);
    }
  SymbolicTensor in = Input(Shape{4, 5}, "x");
  Functional model({in}, {TimeDistributed(std::make_shared<Dense>(2))(LSTM(3, {.return_sequences = true})(in))});
  const std::string path = (std::filesystem::temp_directory_path() / "axon_time_distributed.safetensors").string();
  save_model(model, path);
  EXPECT_EQ(max_difference(load_model(path)->predict(x), model.predict(x)), 0.0);
  std::filesystem::remove(path);
}

TEST(Embedding, GathersRowsAndAddsTheGradientsOfRepeatedIds) {
  Embedding embedding(5, 3, {.seed = 1});
  const Tensor ids = Tensor::from(std::vector<int32_t>{4, 1, 4}, Shape{1, 3});
  Variable y = embedding(Variable(ids));
  EXPECT_EQ(y.shape(), (Shape{1, 3, 3}));
  const std::vector<double> table = embedding.embeddings().value().to_vector(), got = y.value().to_vector();
  for (int64_t j = 0; j < 3; ++j) {
    EXPECT_EQ(got[j], table[12 + j]);
    EXPECT_EQ(got[3 + j], table[3 + j]);
  }
  sum(y).backward();
  const std::vector<double> grad = embedding.embeddings().grad().to_vector();
  EXPECT_EQ(grad[12], 2.0);  // row 4, used twice
  EXPECT_EQ(grad[3], 1.0);
  EXPECT_EQ(grad[0], 0.0);
  for (double v : table) EXPECT_LE(std::abs(v), 0.05);
}

TEST(Embedding, IdsOutOfRangeOrNotWholeFailNamingThem) {
  Embedding embedding(5, 2);
  EXPECT_NE(error_of([&] {
              embedding(Variable(Tensor::from(std::vector<float>{1, 5}, Shape{1, 2})));
            }).find("Embedding: token id 5 at position 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              embedding(Variable(Tensor::from(std::vector<int64_t>{-1}, Shape{1, 1})));
            }).find("token id -1"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              embedding(Variable(Tensor::from(std::vector<float>{1.5f}, Shape{1, 1})));
            }).find("1.5"),
            std::string::npos);
  EXPECT_NE(error_of([] { Embedding(0, 2); }).find("input_dim"), std::string::npos);
}

TEST(Initializers, OrthogonalHasOrthonormalRowsOrColumns) {
  Generator generator(1);
  for (const Shape& shape : {Shape{4, 12}, Shape{12, 4}, Shape{5, 5}}) {
    const std::vector<double> m = Initializer(Initializer::Kind::orthogonal)(shape, 1, 1, generator).to_vector();
    const int64_t rows = shape[0], cols = shape[1];
    const bool by_rows = rows <= cols;
    const int64_t count = by_rows ? rows : cols, length = by_rows ? cols : rows;
    for (int64_t a = 0; a < count; ++a)
      for (int64_t b = 0; b < count; ++b) {
        double dot = 0;
        for (int64_t k = 0; k < length; ++k)
          dot += by_rows ? m[a * cols + k] * m[b * cols + k] : m[k * cols + a] * m[k * cols + b];
        EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-5);
      }
  }
}

}  // namespace
}  // namespace axon
