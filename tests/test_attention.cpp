// Attention and Transformers: the fused attention kernel's tiled and plain forms against
// the naive reference; MultiHeadAttention and the Transformer blocks against PyTorch's
// nn.MultiheadAttention, nn.TransformerEncoderLayer and nn.TransformerDecoderLayer on the
// same weights (tests/fixtures/attention, made by make_attention_fixtures.py there);
// sequence masks from Embedding(mask_zero) through recurrent layers, attention and
// pooling (a padded batch gives each sequence what it gives alone); positions; round
// trips through spec and model file; bad input.
#include <gtest/gtest.h>

#include <filesystem>

#include "axon/axon.h"
#include "error_of.h"
#include "kernels/attention.h"
#include "kernels/lstm.h"
#include "max_difference.h"

namespace axon {
namespace {

using test_support::error_of;
using test_support::max_difference;

Tensor fixture(const std::string& name) {
  return read_npy(std::string(AXON_SOURCE_DIR) + "/tests/fixtures/attention/" + name + ".npy");
}

// ---- the kernel ----

struct KernelCase {
  int64_t queries, keys;
  bool causal, masked;
  double dropout;
};

TEST(AttentionKernel, TiledAndPlainMatchTheNaiveReferenceForwardAndBackward) {
  const std::vector<KernelCase> cases = {
      {7, 7, false, false, 0}, {7, 7, true, false, 0},  {5, 9, true, true, 0},
      {9, 4, false, true, 0.25}, {1, 8, true, false, 0}, {6, 6, true, true, 0.5},
  };
  Generator generator(3);
  for (const KernelCase& c : cases) {
    const int64_t batch = 2, heads = 3;
    const Tensor q = generator.normal(Shape{batch, c.queries, heads, 4}, 0, 1);
    const Tensor k = generator.normal(Shape{batch, c.keys, heads, 4}, 0, 1);
    const Tensor v = generator.normal(Shape{batch, c.keys, heads, 5}, 0, 1);
    const Tensor g = generator.normal(Shape{batch, c.queries, heads, 5}, 0, 1);
    kernels::AttentionSettings settings{.scale = 0.5, .causal = c.causal, .dropout = c.dropout, .seed = 11};
    if (c.masked) {  // the second sequence's keys: only the first two are real
      std::vector<double> mask(static_cast<size_t>(batch * c.keys), 1.0);
      for (int64_t j = 2; j < c.keys; ++j) mask[static_cast<size_t>(c.keys + j)] = 0.0;
      settings.key_mask = Tensor::from(mask, Shape{batch, c.keys});
    }
    const Tensor expected = kernels::attention_forward_naive(q, k, v, settings);
    const kernels::AttentionGradients expected_grads = kernels::attention_backward_naive(g, q, k, v, settings);
    for (bool plain : {false, true}) {
      for (int64_t block : {2, 3, 64}) {
        settings.keep_probabilities = plain;
        settings.block = block;
        const std::string label = std::string(plain ? "plain" : "tiled") + " block " + std::to_string(block) +
                                  " queries " + std::to_string(c.queries) + " keys " + std::to_string(c.keys);
        const kernels::AttentionSaved saved = kernels::attention_forward(q, k, v, settings);
        EXPECT_LT(max_difference(saved.out, expected), 1e-5) << label;
        const kernels::AttentionGradients grads = kernels::attention_backward(g, q, k, v, saved, settings);
        EXPECT_LT(max_difference(grads.query, expected_grads.query), 1e-5) << label;
        EXPECT_LT(max_difference(grads.key, expected_grads.key), 1e-5) << label;
        EXPECT_LT(max_difference(grads.value, expected_grads.value), 1e-5) << label;
      }
    }
  }
}

TEST(AttentionKernel, AQueryThatSeesNoKeyGetsZerosAndNoGradient) {
  const Tensor q = Tensor::ones(Shape{1, 2, 1, 2}), k = Tensor::ones(Shape{1, 3, 1, 2});
  const Tensor v = Tensor::full(Shape{1, 3, 1, 2}, 4.0);
  Variable query(q, true);
  Variable out = attention(query, Variable(k), Variable(v), {.key_mask = Tensor::zeros(Shape{1, 3})});
  for (double y : out.value().to_vector()) EXPECT_EQ(y, 0.0);
  out.backward(Tensor::ones(out.shape()));
  for (double d : query.grad().to_vector()) EXPECT_EQ(d, 0.0);
}

TEST(AttentionKernel, DropoutZeroesAboutItsRateAndKeepsTheExpectation) {
  Generator generator(4);
  const Tensor q = Tensor::zeros(Shape{4, 16, 2, 4}), k = generator.normal(Shape{4, 64, 2, 4}, 0, 1);
  const Tensor v = Tensor::ones(Shape{4, 64, 2, 1});  // each output: the kept probabilities' sum, scaled
  const Tensor y = attention(Variable(q), Variable(k), Variable(v), {.dropout = 0.25, .seed = 9}).value();
  double total = 0;
  for (double value : y.to_vector()) total += value;
  EXPECT_NEAR(total / static_cast<double>(y.numel()), 1.0, 0.05);  // uniform p, 64 keys: E = 1
}

// ---- layers against PyTorch ----

void load_weights(Module& layer, const std::string& model) {
  for (NamedParameter& p : layer.named_parameters()) p.variable.value().copy_from(fixture(model + "." + p.name));
}

TEST(MultiHeadAttention, MatchesPyTorchCrossCausalAndPadded) {
  const Variable x(fixture("x")), memory(fixture("memory"));
  MultiHeadAttention cross(2, 4);
  cross({x, memory});
  load_weights(cross, "attention");
  EXPECT_LT(max_difference(cross({x, memory})[0].value(), fixture("attention_cross_y")), 1e-5);

  Variable padded_memory(fixture("memory"));
  padded_memory.set_mask(fixture("memory_mask"));
  EXPECT_LT(max_difference(cross({x, padded_memory})[0].value(), fixture("attention_padded_y")), 1e-5);

  MultiHeadAttention causal(2, 4, {.causal = true});
  causal({x, x});
  load_weights(causal, "attention");
  EXPECT_LT(max_difference(causal({x, x})[0].value(), fixture("attention_causal_y")), 1e-5);
  EXPECT_LT(max_difference(causal(std::vector<Variable>{x})[0].value(), fixture("attention_causal_y")), 1e-5);  // self-attention
}

TEST(TransformerBlocks, MatchPyTorchPreAndPostNormEncoderDecoderAndGpt) {
  const Variable x(fixture("x")), memory(fixture("memory"));
  struct Case {
    std::shared_ptr<Module> block;
    std::string weights, expected;
    bool cross;
  };
  const std::vector<Case> cases = {
      {std::make_shared<TransformerEncoderBlock>(2, 16), "encoder", "encoder_y", false},
      {std::make_shared<TransformerEncoderBlock>(2, 16, TransformerOptions{.normalize_first = false}), "encoder_post",
       "encoder_post_y", false},
      {std::make_shared<TransformerDecoderBlock>(2, 16), "encoder", "gpt_y", false},
      {std::make_shared<TransformerDecoderBlock>(2, 16), "decoder", "decoder_y", true},
  };
  for (const Case& c : cases) {
    const std::vector<Variable> inputs = c.cross ? std::vector<Variable>{x, memory} : std::vector<Variable>{x};
    (*c.block)(inputs);
    load_weights(*c.block, c.weights);
    EXPECT_LT(max_difference((*c.block)(inputs)[0].value(), fixture(c.expected)), 2e-5) << c.expected;
  }
}

// ---- masks ----

// Layers called one after the other on values, as a Sequential model does, at any length.
struct Chain {
  std::vector<std::shared_ptr<Module>> layers;
  Tensor operator()(const Tensor& ids) const {
    Variable x(ids);
    for (const auto& layer : layers) x = (*layer)(x);
    return x.value();
  }
};

// ids (batch, steps) with 0 as padding -> the chain's output for each row run alone,
// without its padding, one row each.
Tensor each_alone(const Chain& chain, const Tensor& ids) {
  const int64_t batch = ids.dim(0), steps = ids.dim(1);
  std::vector<double> out;
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<double> row;
    for (int64_t t = 0; t < steps; ++t)
      if (ids.data<float>()[b * steps + t] != 0) row.push_back(ids.data<float>()[b * steps + t]);
    const std::vector<double> values =
        chain(Tensor::from(row, Shape{1, static_cast<int64_t>(row.size())}).to(DType::f32)).to_vector();
    out.insert(out.end(), values.begin(), values.end());
  }
  return Tensor::from(out, Shape{batch, static_cast<int64_t>(out.size()) / batch});
}

TEST(Masking, APaddedBatchGivesEachSequenceWhatItGivesAlone) {
  // Three sequences of lengths 5, 2 and 4, padded with 0 at the end.
  const Tensor ids = Tensor::from(std::vector<float>{3, 1, 4, 1, 5, 9, 2, 0, 0, 0, 6, 5, 3, 5, 0}, Shape{3, 5});
  auto embedding = [] { return std::make_shared<Embedding>(10, 8, EmbeddingOptions{.mask_zero = true, .seed = 1}); };
  const std::vector<std::pair<std::string, Chain>> chains = {
      {"LSTM then GRU",
       {{embedding(), std::make_shared<LSTM>(6, RecurrentOptions{.return_sequences = true}, WeightOptions{.seed = 2}),
         std::make_shared<GRU>(5, RecurrentOptions{}, true, WeightOptions{.seed = 3})}}},
      {"Bidirectional LSTM, Dense, average",
       {{embedding(),
         std::make_shared<Bidirectional>(
             std::make_shared<LSTM>(4, RecurrentOptions{.return_sequences = true}, WeightOptions{.seed = 4})),
         std::make_shared<Dense>(3, "tanh", WeightOptions{.seed = 5}), std::make_shared<GlobalAveragePooling1D>()}}},
      {"SimpleRNN backwards, max",
       {{embedding(),
         std::make_shared<SimpleRNN>(4, RecurrentOptions{.return_sequences = true, .go_backwards = true},
                                     WeightOptions{.seed = 6}),
         std::make_shared<GlobalMaxPooling1D>()}}},
      {"Transformer encoder, average",
       {{embedding(), std::make_shared<SinePositionEncoding>(),
         std::make_shared<TransformerEncoderBlock>(2, 16, TransformerOptions{.seed = 7}),
         std::make_shared<GlobalAveragePooling1D>()}}},
  };
  for (const auto& [label, chain] : chains) {
    const Tensor together = chain(ids);
    EXPECT_LT(max_difference(together.reshape({3, -1}), each_alone(chain, ids)), 1e-5) << label;
  }
  // The compiled inference path (predict) carries the masks too.
  const Chain& transformer = chains.back().second;
  SymbolicTensor tokens = Input(Shape{5}, "tokens"), h = tokens;
  for (const auto& layer : transformer.layers) h = (*layer)(h);
  Functional model({tokens}, {h});
  EXPECT_LT(max_difference(model.predict(ids), transformer(ids)), 1e-6);
}

TEST(Masking, PaddedStepsOfTheFusedLstmHoldTheState) {
  Generator generator(12);
  const Variable x(generator.normal(Shape{2, 4, 8}, 0, 1), true), w(generator.normal(Shape{2, 8}, 0, 0.5), true);
  const Variable h0(generator.normal(Shape{2, 2}, 0, 1), true), c0(generator.normal(Shape{2, 2}, 0, 1), true);
  const Tensor mask = Tensor::from(std::vector<double>{1, 0, 1, 0, 0, 1, 1, 0}, Shape{2, 4});
  Tensor gates;
  const Tensor fused = kernels::lstm_forward(x.value(), w.value(), h0.value(), c0.value(), false, gates,
                                             mask.to(DType::f32));
  const Tensor naive = kernels::lstm_forward_naive(x.value(), w.value(), h0.value(), c0.value(), false, gates,
                                                   mask.to(DType::f32));
  EXPECT_LT(max_difference(fused, naive), 1e-6);
  // A padded step holds the state before it: steps 1 and 3 of the first sequence, 0
  // and 3 of the second (its initial state); the gradient is in the gradient-check table.
  for (int64_t j = 0; j < 4; ++j) {
    EXPECT_EQ(fused.at({0, 1, j}), fused.at({0, 0, j}));
    EXPECT_EQ(fused.at({0, 3, j}), fused.at({0, 2, j}));
    EXPECT_EQ(fused.at({1, 0, j}), j < 2 ? h0.value().at({1, j}) : c0.value().at({1, j - 2}));
    EXPECT_EQ(fused.at({1, 3, j}), fused.at({1, 2, j}));
  }
}

// ---- positions ----

TEST(Positions, SineEncodingHasItsFormulaAndTheLearnedTableChecksLength) {
  const Tensor zeros = Tensor::zeros(Shape{1, 3, 4});
  const Tensor y = SinePositionEncoding(100)(Variable(zeros)).value();
  EXPECT_FLOAT_EQ(y.at({0, 2, 0}), std::sin(2.0));
  EXPECT_FLOAT_EQ(y.at({0, 2, 1}), std::cos(2.0));
  EXPECT_FLOAT_EQ(y.at({0, 2, 2}), std::sin(2.0 / 10.0));  // 100^(2/4)
  EXPECT_FLOAT_EQ(y.at({0, 1, 3}), std::cos(1.0 / 10.0));

  PositionalEmbedding positions(4, 1);
  const Tensor x = Tensor::ones(Shape{2, 3, 5});
  const Tensor out = positions(Variable(x)).value();
  EXPECT_FLOAT_EQ(out.at({1, 2, 4}), 1.0f + positions.named_parameters()[0].variable.value().at({2, 4}));
  EXPECT_NE(error_of([&] { positions(Variable(Tensor::ones(Shape{1, 5, 5}))); }).find("PositionalEmbedding"),
            std::string::npos);
}

// ---- models ----

TEST(Transformer, AGptModelTrainsRoundTripsAndFailsClearly) {
  // Next-token prediction on a repeating sequence 1 2 3 4 1 2 3 4 ...
  SymbolicTensor tokens = Input(Shape{8}, "tokens");
  SymbolicTensor h = PositionalEmbedding(8, 1)(Embedding(6, 16, {.seed = 2})(tokens));
  h = TransformerDecoderBlock(4, 32, {.dropout = 0.1, .seed = 3})(h);
  h = LayerNormalization(1e-5)(h);
  Functional model({tokens}, {Dense(6, "softmax", {.seed = 4})(h)});
  model.compile(Adam(0.01), "sparse_categorical_crossentropy");
  const int64_t n = 64;
  Tensor x = Tensor::empty(Shape{n, 8}), y = Tensor::empty(Shape{n, 8});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t t = 0; t < 8; ++t) {
      x.data<float>()[i * 8 + t] = static_cast<float>((i + t) % 4 + 1);
      y.data<float>()[i * 8 + t] = static_cast<float>((i + t + 1) % 4 + 1);
    }
  const double before = model.evaluate(x, y).at("loss");
  model.fit(x, y, {.epochs = 20, .batch_size = 16, .verbose = 0});
  EXPECT_LT(model.evaluate(x, y).at("loss"), before / 4);

  const std::string path = (std::filesystem::temp_directory_path() / "axon_gpt.safetensors").string();
  save_model(model, path);
  std::shared_ptr<Model> back = load_model(path);
  EXPECT_EQ(max_difference(back->predict(x), model.predict(x)), 0.0);
  EXPECT_EQ(model_to_spec(*back), model_to_spec(model));
  std::shared_ptr<Model> from_spec = model_from_spec(model_to_spec(model));
  EXPECT_EQ(from_spec->parameter_count(), model.parameter_count());
  std::filesystem::remove(path);

  EXPECT_NE(error_of([&] { model.predict(Tensor::full(Shape{1, 8}, 6)); }).find("Embedding: token id 6"),
            std::string::npos);
  EXPECT_NE(error_of([&] { model.predict(Tensor::full(Shape{1, 8}, -1)); }).find("Embedding: token id -1"),
            std::string::npos);
  EXPECT_NE(error_of([] { TransformerEncoderBlock(3, 8)(Variable(Tensor::zeros(Shape{1, 2, 8}))); })
                .find("8 features do not split into 3 heads"),
            std::string::npos);
  EXPECT_NE(error_of([] { MultiHeadAttention(2, 4)(std::vector<Variable>{Variable(Tensor::zeros(Shape{1, 2}))}); })
                .find("(batch, steps, features)"),
            std::string::npos);
}

TEST(Transformer, EveryNewLayerRoundTripsThroughSpecAndModelFile) {
  SymbolicTensor tokens = Input(Shape{6}, "tokens");
  SymbolicTensor embedded = SinePositionEncoding(50)(Embedding(9, 8, {.mask_zero = true, .seed = 1})(tokens));
  SymbolicTensor h = MultiHeadAttention(2, 3, {.value_dim = 5, .output_dim = 8, .causal = true}, {.seed = 2})(
      std::vector<SymbolicTensor>{embedded, embedded});
  h = TransformerEncoderBlock(4, 16, {.activation = "gelu", .normalize_first = false, .seed = 3})(h);
  h = TransformerDecoderBlock(2, 12, {.seed = 4})(std::vector<SymbolicTensor>{h, embedded});
  Functional model({tokens}, {Dense(3, "softmax", {.seed = 5})(GlobalMaxPooling1D()(h))});
  const Tensor x = Tensor::from(std::vector<float>{1, 2, 3, 0, 0, 0, 8, 7, 6, 5, 4, 3}, Shape{2, 6});
  const std::string path = (std::filesystem::temp_directory_path() / "axon_layers.safetensors").string();
  save_model(model, path);
  std::shared_ptr<Model> back = load_model(path);
  EXPECT_EQ(max_difference(back->predict(x), model.predict(x)), 0.0);
  EXPECT_EQ(model_to_spec(*back), model_to_spec(model));
  std::filesystem::remove(path);
}

// ---- generation ----

std::shared_ptr<Functional> tiny_gpt(int64_t context) {
  SymbolicTensor tokens = Input(Shape{context}, "tokens");
  SymbolicTensor h = PositionalEmbedding(context, 1)(Embedding(7, 8, {.seed = 2})(tokens));
  h = TransformerDecoderBlock(2, 16, {.seed = 3})(h);
  h = TransformerDecoderBlock(2, 16, {.seed = 4})(h);
  return std::make_shared<Functional>(std::vector{tokens},
                                      std::vector{Dense(7, "softmax", {.seed = 5})(LayerNormalization()(h))});
}

std::shared_ptr<Functional> tiny_lstm_lm(int64_t context) {
  SymbolicTensor tokens = Input(Shape{context}, "tokens");
  SymbolicTensor h = LSTM(8, {.return_sequences = true}, {.seed = 6})(Embedding(7, 4, {.seed = 2})(tokens));
  h = GRU(6, {.return_sequences = true}, true, {.seed = 7})(h);
  return std::make_shared<Functional>(std::vector{tokens}, std::vector{Dense(7, "linear", {.seed = 8})(h)});
}

TEST(Generation, CachedAndUncachedDecodingAgreeWithinTheContext) {
  for (auto [label, model] : {std::pair{"gpt", tiny_gpt(12)}, std::pair{"lstm", tiny_lstm_lm(12)}}) {
    for (double temperature : {0.0, 1.0}) {
      const GenerateOptions options{.tokens = 9, .temperature = temperature, .top_k = 4, .seed = 3};
      GenerateOptions uncached = options;
      uncached.cache = false;
      EXPECT_EQ(generate(*model, {1, 2, 3}, options), generate(*model, {1, 2, 3}, uncached)) << label;
    }
    // One step with the cache gives the scores the full run gives at that step.
    NoGrad no_grad;
    model->eval();
    Tensor whole;
    {
      IncrementalDecoding scope;  // lets the model run on 5 of its 12 steps
      whole = (*model)(Variable(Tensor::from(std::vector<float>{1, 2, 3, 4, 5}, Shape{1, 5}))).value();
    }
    IncrementalDecoding decoding;
    (*model)(Variable(Tensor::from(std::vector<float>{1, 2, 3, 4}, Shape{1, 4})));
    decoding.advance(4);
    const Tensor last = (*model)(Variable(Tensor::from(std::vector<float>{5}, Shape{1, 1}))).value();
    EXPECT_LT(max_difference(last.reshape({-1}), whole.reshape({5, -1}).rows(4, 5).reshape({-1})), 1e-5) << label;
  }
}

TEST(Generation, GoesOnPastTheContextAndRefusesLayersThatReadAhead) {
  std::shared_ptr<Functional> model = tiny_gpt(6);
  const std::vector<int64_t> ids = generate(*model, {1, 2}, {.tokens = 20, .temperature = 0.8, .seed = 1});
  EXPECT_EQ(ids.size(), 22u);
  for (int64_t id : ids) EXPECT_TRUE(id >= 0 && id < 7);

  SymbolicTensor tokens = Input(Shape{5}, "tokens");
  SymbolicTensor h = TransformerEncoderBlock(2, 8)(Embedding(7, 4)(tokens));
  Functional encoder({tokens}, {Dense(7)(h)});
  EXPECT_NE(error_of([&] { generate(encoder, {1}, {.tokens = 1}); }).find("needs causal attention"), std::string::npos);
  EXPECT_NE(error_of([&] { generate(*model, {}, {}); }).find("at least one token"), std::string::npos);
}

}  // namespace
}  // namespace axon
