// The JSON model spec: every layer, initializer, regularizer, optimizer, loss and
// metric round-trips, and each mistake is reported with the path of its field.
#include <gtest/gtest.h>

#include "axon/axon.h"
#include "axon/model_spec.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

const char* kDesignExample = R"({"input_shape": [784],
  "layers": [{"type": "dense", "units": 256, "activation": "relu"},
             {"type": "dropout", "rate": 0.2},
             {"type": "dense", "units": 10, "activation": "softmax"}],
  "compile": {"optimizer": {"type": "adam", "learning_rate": 0.001},
              "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}})";

std::string spec_error(const std::string& spec) {
  return error_of([&] { model_from_spec(spec); });
}

std::string with_layer(const std::string& layer) { return R"({"input_shape": [4], "layers": [)" + layer + "]}"; }

// The Sequential a spec describes.
std::shared_ptr<Sequential> sequential_from(const std::string& spec) {
  return std::dynamic_pointer_cast<Sequential>(model_from_spec(spec));
}

TEST(ModelSpec, DesignExampleBuildsAndCompiles) {
  auto model = sequential_from(kDesignExample);
  EXPECT_TRUE(model->built());
  EXPECT_TRUE(model->compiled());
  EXPECT_EQ(model->parameter_count(), 784 * 256 + 256 + 256 * 10 + 10);
  EXPECT_EQ(model->optimizer().name(), "adam");
  EXPECT_DOUBLE_EQ(model->optimizer().learning_rate(), 0.001);
  EXPECT_EQ(model->loss().name, "sparse_categorical_crossentropy");
  ASSERT_EQ(model->metrics().size(), 1u);
  EXPECT_EQ(model->layer(1).type_name(), "Dropout");
}

TEST(ModelSpec, EverySettingRoundTrips) {
  Sequential model(Shape{6});
  model.add(Dense(5, "gelu",
                  {.use_bias = false,
                   .kernel_initializer = Initializer::from_name("he_normal"),
                   .kernel_regularizer = L1L2(0.01, 0.02),
                   .seed = 7}));
  model.add(Dropout(0.3, 11));
  model.add(Activation("tanh"));
  model.add(Dense(3, "linear", {.bias_initializer = Initializer::constant(0.5), .bias_regularizer = L2(0.1)}));
  model.compile(AdamW(0.002, 0.05, 0.8, 0.99, 1e-6), LossSpec("categorical_crossentropy", true),
                {"accuracy", "f1_macro"});
  const std::string spec = model_to_spec(model);
  const auto rebuilt = model_from_spec(spec);
  EXPECT_EQ(model_to_spec(*rebuilt), spec);
  EXPECT_EQ(rebuilt->parameter_count(), model.parameter_count());
  EXPECT_NE(spec.find("\"weight_decay\": 0.05"), std::string::npos) << spec;
  EXPECT_NE(spec.find("\"from_logits\": true"), std::string::npos) << spec;
  EXPECT_NE(spec.find("\"seed\": 11"), std::string::npos) << spec;
  // Seeded layers rebuild the same initial weights.
  EXPECT_TRUE(rebuilt->get_weights()[0].allclose(model.get_weights()[0], 0, 0));

  for (const char* optimizer : {R"({"type": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": true})",
                                R"({"type": "rmsprop", "rho": 0.8, "momentum": 0.1, "epsilon": 1e-6})",
                                R"({"type": "adagrad", "initial_accumulator_value": 0.2})", R"("adam")"}) {
    const auto m = model_from_spec(std::string(R"({"input_shape": [2], "layers": [{"type": "dense", "units": 1}],
                                   "compile": {"optimizer": )") +
                                   optimizer + R"(, "loss": "mse"}})");
    EXPECT_EQ(model_to_spec(*model_from_spec(model_to_spec(*m))), model_to_spec(*m)) << optimizer;
  }
}

TEST(ModelSpec, ConvolutionalLayersRoundTrip) {
  const auto model = sequential_from(R"({"input_shape": [784],
    "layers": [{"type": "reshape", "target_shape": [1, 28, 28]},
               {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
               {"type": "max_pool2d"},
               {"type": "batch_normalization", "momentum": 0.9},
               {"type": "conv2d", "filters": 6, "kernel_size": [3, 2], "strides": [2, 1], "padding": [1, 0, 1, 1], "dilation": 1},
               {"type": "average_pool2d", "pool_size": 2, "strides": 1, "padding": "same"},
               {"type": "global_average_pool2d"},
               {"type": "flatten"},
               {"type": "dense", "units": 10, "activation": "softmax"}]})");
  EXPECT_EQ(model->layer(2).output_shape(), (Shape{4, 14, 14}));
  EXPECT_EQ(model->layer(4).output_shape(), (Shape{6, 7, 15}));  // (14 + 1 + 0 - 3) / 2 + 1, (14 + 1 + 1 - 2) + 1
  EXPECT_EQ(model->layer(6).output_shape(), (Shape{6}));
  const std::string spec = model_to_spec(*model);
  EXPECT_EQ(model_to_spec(*model_from_spec(spec)), spec);
  EXPECT_EQ(
      spec_error(R"({"input_shape": [1, 4, 4], "layers": [{"type": "conv2d", "filters": 2, "kernel_size": 5}]})"),
      "spec: Conv2D: kernel (5, 5) with dilation (1, 1) does not fit the padded input (4, 4) (input (1, 1, 4, 4))");
}

TEST(ModelSpec, ErrorsNameTheField) {
  EXPECT_EQ(spec_error(with_layer(R"({"type": "dense", "units": 3}, {"type": "dropout", "rate": 1.5})")),
            "spec: layers[1].rate: expected a number in [0, 1), got 1.5");
  EXPECT_EQ(spec_error(with_layer(R"({"type": "dense"})")), "spec: layers[0].units: missing");
  EXPECT_EQ(spec_error(with_layer(R"({"type": "dense", "units": 0})")),
            "spec: layers[0].units: expected an integer >= 1, got 0");
  EXPECT_EQ(spec_error(with_layer(R"({"type": "dense", "units": "ten"})")),
            "spec: layers[0].units: expected an integer >= 1, got \"ten\"");
  EXPECT_EQ(spec_error(with_layer(R"({"type": "conv9d"})")),
            "spec: layers[0].type: expected a registered type (activation, add, average, average_pool2d, "
            "batch_normalization, bidirectional, concatenate, conv1d, conv2d, dense, dropout, embedding, flatten, "
            "functional, "
            "global_average_pool2d, global_average_pooling1d, global_max_pooling1d, gru, layer_normalization, lstm, "
            "max_pool2d, multi_head_attention, multiply, positional_embedding, "
            "quantized_conv2d, quantized_dense, rescaling, "
            "reshape, sequential, simple_rnn, sine_position_encoding, slice, subtract, text_vectorization, time_distributed, "
            "transformer_decoder_block, transformer_encoder_block), got \"conv9d\"");
  const std::string unknown = spec_error(with_layer(R"({"type": "dense", "units": 2, "unit": 3})"));
  EXPECT_NE(unknown.find("layers[0].unit: unknown field; expected one of: "), std::string::npos) << unknown;
  EXPECT_NE(unknown.find(", units, use_bias"), std::string::npos) << unknown;
  EXPECT_NE(spec_error(with_layer(R"({"type": "dense", "units": 2, "activation": "relu6"})"))
                .find("layers[0]: unknown activation 'relu6'"),
            std::string::npos);
  EXPECT_NE(spec_error(with_layer(R"({"type": "dense", "units": 2, "kernel_initializer": "xavier"})"))
                .find("layers[0].kernel_initializer: unknown initializer 'xavier'"),
            std::string::npos);
  EXPECT_NE(spec_error(with_layer(R"({"type": "dense", "units": 2, "kernel_regularizer": {"l2": -1}})"))
                .find("layers[0].kernel_regularizer.l2: expected a number in [0, inf], got -1"),
            std::string::npos);
  EXPECT_EQ(spec_error(R"({"layers": []})"), "spec: layers: expected a non-empty list of layers, got []");
  EXPECT_EQ(spec_error(R"({"input_shape": [0], "layers": [{"type": "dense", "units": 1}]})"),
            "spec: input_shape[0]: expected an integer >= 1, got 0");
  EXPECT_NE(spec_error("{\"layers\": [").find("spec: not valid JSON"), std::string::npos);
  EXPECT_NE(spec_error("[1, 2]").find("expected an object"), std::string::npos);
  const std::string compile = R"({"input_shape": [2], "layers": [{"type": "dense", "units": 1}], "compile": )";
  EXPECT_EQ(
      spec_error(compile + R"({"optimizer": {"type": "adamax"}, "loss": "mse"}})"),
      "spec: compile.optimizer.type: expected a registered type (adagrad, adam, adamw, rmsprop, sgd), got \"adamax\"");
  EXPECT_EQ(spec_error(compile + R"({"optimizer": {"type": "adam", "beta_1": 1.0}, "loss": "mse"}})"),
            "spec: compile.optimizer.beta_1: expected a number in [0, 1), got 1.0");
  EXPECT_NE(spec_error(compile + R"({"optimizer": "adam", "loss": "msq"}})").find("compile.loss: unknown loss 'msq'"),
            std::string::npos);
  EXPECT_NE(spec_error(compile + R"({"optimizer": "adam", "loss": "mse", "metrics": ["acc", "recal"]}})")
                .find("compile.metrics[1]: unknown metric 'recal'"),
            std::string::npos);
  EXPECT_EQ(spec_error(compile + R"({"loss": "mse"}})"), "spec: compile.optimizer: missing");
}

TEST(ModelSpec, LoadsFromAFileAndNamesIt) {
  const std::string path = ::testing::TempDir() + "axon_spec.json";
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(kDesignExample, f);
  std::fclose(f);
  EXPECT_EQ(load_spec(path).model->children().size(), 3u);
  EXPECT_NE(error_of([&] { load_spec(path + ".missing"); }).find("axon_spec.json.missing: cannot open"),
            std::string::npos);
}

}  // namespace
}  // namespace axon
