// Functional models: a graph of two inputs, a layer shared by both, a residual
// connection and two outputs, through train -> save -> load -> predict -> serve, and
// the errors a graph can make.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "axon/axon.h"
#include "axon/inference_server.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

// a, b: (6,) -> class: 3-way softmax, value: one number.
std::shared_ptr<Functional> two_headed_model() {
  manual_seed(3);
  const SymbolicTensor a = Input(Shape{6}, "a"), b = Input(Shape{6}, "b");
  auto shared = std::make_shared<Dense>(16, "relu");
  const SymbolicTensor h = Add()({(*shared)(a), (*shared)(b)});  // one layer, two calls: one set of weights
  const SymbolicTensor residual = Add()({h, Dense(16)(Dense(16, "relu")(h))});
  const SymbolicTensor label = Dense(3, "softmax")(residual);
  const SymbolicTensor value = Dense(1)(Concatenate()({residual, b}));
  return std::make_shared<Functional>(std::vector<SymbolicTensor>{a, b}, std::vector<SymbolicTensor>{label, value});
}

// Labels: which pair of features of a + b has the largest sum (the shared layer sees a
// and b alike); values: sum(a + b) plus a part that only b's own path can give.
struct TwoHeadedData {
  Tensor a, b, label, value;
};
TwoHeadedData two_headed_data(int64_t n, uint64_t seed) {
  Generator gen(seed);
  TwoHeadedData d{gen.uniform({n, 6}, -1, 1), gen.uniform({n, 6}, -1, 1), Tensor::empty({n}), Tensor::empty({n, 1})};
  for (int64_t i = 0; i < n; ++i) {
    const float* a = d.a.data<float>() + i * 6;
    const float* b = d.b.data<float>() + i * 6;
    const double s[3] = {a[0] + a[1] + b[0] + b[1], a[2] + a[3] + b[2] + b[3], a[4] + a[5] + b[4] + b[5]};
    d.label.data<float>()[i] = static_cast<float>(std::max_element(s, s + 3) - s);
    double v = 2 * b[0] - b[5];
    for (int k = 0; k < 6; ++k) v += a[k] + b[k];
    d.value.data<float>()[i] = static_cast<float>(v);
  }
  return d;
}

TEST(Functional, SharedLayerHasOneSetOfWeightsAndTheGraphIsNamed) {
  const auto model = two_headed_model();
  // shared 6x16+16, residual branch 2x(16x16+16), label head 16x3+3, value head (16+6)x1+1
  EXPECT_EQ(model->parameter_count(), 6 * 16 + 16 + 2 * (16 * 16 + 16) + 16 * 3 + 3 + 22 + 1);
  EXPECT_EQ(model->input_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(model->output_names(), (std::vector<std::string>{"dense_3", "dense_4"}));
  EXPECT_EQ(model->named_parameters().front().name, "layers.0.kernel");
  const std::string summary = model->summary();
  EXPECT_NE(summary.find("Connected to"), std::string::npos) << summary;
  EXPECT_NE(summary.find("a (InputLayer)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("dense@1 (Dense)"), std::string::npos) << summary;  // the shared layer's second call
  EXPECT_NE(summary.find("dense, dense@1"), std::string::npos) << summary;   // what the first Add reads
  EXPECT_NE(summary.find("add_1, b"), std::string::npos) << summary;         // the concatenation
  // The shared layer computes the same function on both inputs.
  const Tensor x = Generator(1).uniform({2, 6}, -1, 1);
  const std::vector<Tensor> same = model->predict({x, x});
  const std::vector<Tensor> swapped = model->predict({x, Tensor::zeros({2, 6})});
  EXPECT_EQ(same[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(same[1].shape(), (Shape{2, 1}));
  EXPECT_FALSE(same[1].allclose(swapped[1]));
}

TEST(Functional, TrainsSavesLoadsPredictsAndServes) {
  const auto model = two_headed_model();
  model->compile(Adam(3e-3), std::vector<LossSpec>{"sparse_categorical_crossentropy", "mse"},
                 std::vector<std::vector<MetricSpec>>{{"accuracy"}, {}});
  const TwoHeadedData train = two_headed_data(512, 1), test = two_headed_data(128, 2);
  const Logs before = model->evaluate({test.a, test.b}, {test.label, test.value});
  const History history = model->fit({train.a, train.b}, {train.label, train.value},
                                     {.epochs = 25, .batch_size = 32, .validation_split = 0.1, .verbose = 0});
  const Logs after = model->evaluate({test.a, test.b}, {test.label, test.value});
  EXPECT_NEAR(after.at("loss"), after.at("dense_3_loss") + after.at("dense_4_loss"), 1e-5);
  EXPECT_LT(after.at("dense_4_loss"), before.at("dense_4_loss") / 10) << after.str();
  EXPECT_GT(after.at("dense_3_accuracy"), 0.8) << after.str();
  EXPECT_TRUE(history.logs.back().contains("val_dense_3_accuracy"));

  const std::string path = ::testing::TempDir() + "axon_functional.safetensors";
  save_model(*model, path);
  const std::shared_ptr<Model> loaded = load_model(path);
  EXPECT_EQ(loaded->type_name(), "Functional");
  EXPECT_EQ(model_to_spec(*loaded), model_to_spec(*model));
  const std::vector<Tensor> expected = model->predict({test.a, test.b}), got = loaded->predict({test.a, test.b});
  ASSERT_EQ(got.size(), 2u);
  for (size_t k = 0; k < 2; ++k) EXPECT_TRUE(got[k].allclose(expected[k], 0, 0)) << k;  // bit-identical
  EXPECT_NEAR(loaded->evaluate({test.a, test.b}, {test.label, test.value}).at("loss"), after.at("loss"), 1e-6);

  // OIP v2: both inputs by name (in any order), both outputs by name.
  InferenceServer server({.port = 0});
  server.add_model("heads", loaded);
  httplib::Client client("127.0.0.1", server.start());
  using json = nlohmann::json;
  const auto metadata = json::parse(client.Get("/v2/models/heads")->body);
  EXPECT_EQ(metadata["inputs"][1]["name"], "b");
  EXPECT_EQ(metadata["outputs"][1]["shape"], json::parse("[-1, 1]"));
  const std::vector<float> a(test.a.data<float>(), test.a.data<float>() + 12),
      b(test.b.data<float>(), test.b.data<float>() + 12);
  const json request = {{"inputs",
                         {{{"name", "b"}, {"shape", {2, 6}}, {"datatype", "FP32"}, {"data", b}},
                          {{"name", "a"}, {"shape", {2, 6}}, {"datatype", "FP32"}, {"data", a}}}}};
  const auto response = client.Post("/v2/models/heads/infer", request.dump(), "application/json");
  ASSERT_EQ(response->status, 200) << response->body;
  const json outputs = json::parse(response->body)["outputs"];
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0]["name"], "dense_3");
  for (int64_t i = 0; i < 2; ++i)
    EXPECT_FLOAT_EQ(outputs[1]["data"][static_cast<size_t>(i)].get<float>(), expected[1].data<float>()[i]);
  const auto missing =
      client.Post("/v2/models/heads/infer", json{{"inputs", {request["inputs"][0]}}}.dump(), "application/json");
  EXPECT_EQ(missing->status, 400);
  EXPECT_NE(missing->body.find("the model's 2 inputs (\\\"a\\\", \\\"b\\\")"), std::string::npos) << missing->body;
  server.shutdown();
}

TEST(Functional, AResidualBlockTrains) {
  // y = x + Dense(Dense(x)): the identity path already fits most of a target near x.
  manual_seed(5);
  const SymbolicTensor x = Input(Shape{4});
  const SymbolicTensor y = Add()({x, Dense(4)(Dense(8, "tanh")(x))});
  Functional model({x}, {y});
  model.compile(Adam(1e-2), "mse");
  const Tensor inputs = Generator(2).uniform({256, 4}, -1, 1);
  Tensor targets = inputs.clone();
  for (int64_t i = 0; i < targets.numel(); ++i)
    targets.data<float>()[i] += 0.3f * std::sin(3 * inputs.data<float>()[i]);
  const double before = model.evaluate(inputs, targets).at("loss");
  model.fit(inputs, targets, {.epochs = 40, .batch_size = 32, .verbose = 0});
  EXPECT_LT(model.evaluate(inputs, targets).at("loss"), before / 5);
  EXPECT_EQ(model.predict(inputs).shape(), inputs.shape());  // one input and one output: plain tensors
}

TEST(Functional, ConvolutionAndPoolingInAGraphAreFusedAndAgreeWithTheLayers) {
  manual_seed(6);
  const SymbolicTensor image = Input(Shape{1, 8, 8});
  auto conv = std::make_shared<Conv2D>(3, 3, "relu", Window{.padding = "same"});
  auto pool = std::make_shared<MaxPool2D>();
  const SymbolicTensor pooled = (*pool)((*conv)(image));
  Functional model({image}, {Flatten()(pooled)});
  const Tensor x = Generator(3).uniform({2, 1, 8, 8}, -1, 1);
  NoGrad no_grad;
  const Variable fused = model(Variable(x));
  EXPECT_STREQ(fused.input(0).op(), "conv2d_max_pool2d");  // the planner chose the fused op
  const Tensor separate = (*pool)((*conv)(Variable(x))).value();
  EXPECT_TRUE(fused.value().allclose(separate.reshape({2, 48}), 0, 0));
}

TEST(Functional, GraphErrorsAreClear) {
  const SymbolicTensor a = Input(Shape{3}, "a"), b = Input(Shape{3}, "b");
  const SymbolicTensor sum = Add()({a, b});
  EXPECT_EQ(error_of([&] { Functional({a}, {sum}); }),
            "Functional: the outputs depend on input 'b', which is not among the model's inputs");
  EXPECT_EQ(error_of([&] { Add()({a, Input(Shape{4})}); }), "Add: inputs must have one shape, got (1, 3) and (1, 4)");
  EXPECT_EQ(error_of([&] { Subtract()({a, b, a}); }), "Subtract: takes exactly two inputs, got 3");
  EXPECT_EQ(error_of([&] { Functional({a, a}, {sum}); }), "Functional: an input is given twice");
  Dense on_the_stack(2);
  EXPECT_NE(error_of([&] { on_the_stack(a); }).find("must be owned by a std::shared_ptr"), std::string::npos);
  const SymbolicTensors two = Add()({a, b});
  EXPECT_EQ(two.size(), 1u);
  Functional model({a, b}, {Dense(2)(sum)});
  EXPECT_EQ(error_of([&] {
              model.predict(Tensor::zeros({1, 3}));
            }),
            "predict: the model takes 2 inputs, got 1 tensors");
  EXPECT_EQ(error_of([&] {
              model.predict({Tensor::zeros({1, 3}), Tensor::zeros({1, 4})});
            }),
            "model: input 'b' must be (batch, 3), got (1, 4)");
  model.compile("sgd", "mse");
  EXPECT_EQ(error_of([&] {
              model.compile("sgd", std::vector<LossSpec>{"mse", "mse"});
            }),
            "compile: give one loss for every output or one per output; the model has 1 outputs, got 2 losses");
}

TEST(Functional, SpecDescribesTheGraph) {
  const std::string spec = R"({"type": "functional",
    "inputs": [{"name": "x", "shape": [4]}],
    "layers": [{"type": "dense", "name": "hidden", "units": 4, "activation": "relu"}, {"type": "add", "name": "skip"}],
    "nodes": [{"layer": "hidden", "inputs": ["x"]}, {"layer": "hidden", "inputs": ["hidden"]}, {"layer": "skip", "inputs": ["x", "hidden@1"]}],
    "outputs": ["skip"],
    "compile": {"optimizer": "sgd", "loss": "mse"}})";
  const std::shared_ptr<Model> model = model_from_spec(spec);
  EXPECT_EQ(model->parameter_count(), 20);  // one Dense called twice
  EXPECT_EQ(model_to_spec(*model_from_spec(model_to_spec(*model))), model_to_spec(*model));
  auto bad = [&](const std::string& from, const std::string& to) {
    std::string text = spec;
    text.replace(text.find(from), from.size(), to);
    return error_of([&] { model_from_spec(text); });
  };
  EXPECT_EQ(bad(R"("inputs": ["x", "hidden@1"])", R"("inputs": ["x", "hidden@2"])"),
            "spec: nodes[2].inputs[1]: expected the name of an input or of an earlier node's output, got \"hidden@2\"");
  EXPECT_EQ(bad(R"({"layer": "skip")", R"({"layer": "skipped")"),
            "spec: nodes[2].layer: expected the name of a layer in \"layers\", got \"skipped\"");
  EXPECT_EQ(bad(R"("shape": [4])", R"("shape": [5])"),
            "spec: nodes[1]: Dense: input (1, 4) has 4 features; this layer was built for 5");
}

}  // namespace
}  // namespace axon
