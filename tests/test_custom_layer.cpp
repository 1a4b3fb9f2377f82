// A layer defined entirely here, with no edit to the library: weights, forward, config
// and registration. It trains in a Sequential and in a functional model, is saved in a
// model file, loads in a fresh model that predicts the same, is served, and is listed
// by summary. A file that names a type nobody registered fails naming it.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "axon/axon.h"
#include "axon/inference_server.h"
#include "axon/registry.h"
#include "error_of.h"

namespace {

using namespace axon;
using test_support::error_of;

// y = x * scale + shift per feature, then an optional power: (batch, features) -> same.
class ScaleShift : public Module {
 public:
  explicit ScaleShift(double power = 1.0) : power_(power) {
    if (power <= 0) fail("ScaleShift: power must be > 0, got ", power);
  }
  Variable forward(const Variable& x) override {
    const Variable y = x * scale_ + shift_;
    return power_ == 1.0 ? y : axon::pow(axon::abs(y) + 1e-6, power_);
  }
  std::string type_name() const override { return "ScaleShift"; }
  Config config() const override { return Config::object().set("power", power_); }
  static std::shared_ptr<ScaleShift> from_config(const ConfigReader& c) {
    return std::make_shared<ScaleShift>(c.number_or("power", 1.0, 1e-6, 100));
  }

 protected:
  void create_weights(const Shape& input_shape) override {
    scale_ = add_weight("scale", Tensor::ones({input_shape[-1]}));
    shift_ = add_weight("shift", Tensor::zeros({input_shape[-1]}));
  }

 private:
  double power_;
  Variable scale_, shift_;
};

AXON_REGISTER(Module, "scale_shift", ScaleShift);

struct Data {
  Tensor x, y;
};
// y = 3x - 1 per feature, which ScaleShift(1) represents exactly.
Data affine_data() {
  const Tensor x = Generator(4).uniform({128, 3}, -1, 1);
  Tensor y = x.clone();
  for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] = 3 * y.data<float>()[i] - 1;
  return {x, y};
}

TEST(CustomLayer, TrainsInASequentialSavesLoadsAndPredictsTheSame) {
  Sequential model(Shape{3});
  model.add(ScaleShift());
  model.compile(Adam(0.05), "mse");
  const Data d = affine_data();
  model.fit(d.x, d.y, {.epochs = 60, .batch_size = 16, .verbose = 0});
  EXPECT_LT(model.evaluate(d.x, d.y).at("loss"), 1e-3);
  EXPECT_NEAR(model.get_weights()[0].at({1}), 3.0, 0.05);  // layers.0.scale
  EXPECT_NE(model.summary().find("scale_shift (ScaleShift)"), std::string::npos) << model.summary();

  const std::string path = ::testing::TempDir() + "axon_custom.safetensors";
  save_model(model, path);
  const std::shared_ptr<Model> loaded = load_model(path);
  EXPECT_TRUE(loaded->predict(d.x).allclose(model.predict(d.x), 0, 0));
  EXPECT_NE(loaded->summary().find("scale_shift (ScaleShift)"), std::string::npos);
  EXPECT_NE(model_to_spec(*loaded).find(R"("type": "scale_shift")"), std::string::npos);

  InferenceServer server({.port = 0});
  server.add_model("custom", loaded);
  httplib::Client client("127.0.0.1", server.start());
  const auto response =
      client.Post("/v2/models/custom/infer",
                  R"({"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": [0, 1, -1]}]})",
                  "application/json");
  ASSERT_EQ(response->status, 200) << response->body;
  const auto data = nlohmann::json::parse(response->body)["outputs"][0]["data"];
  const Tensor expected = model.predict(Tensor::from(std::vector<float>{0, 1, -1}, {1, 3}));
  for (size_t j = 0; j < 3; ++j) EXPECT_FLOAT_EQ(data[j].get<float>(), expected.data<float>()[j]);
  server.shutdown();
}

TEST(CustomLayer, WorksInAFunctionalModelAndItsSettingsRoundTrip) {
  const SymbolicTensor x = Input(Shape{3});
  const SymbolicTensor y = ScaleShift(2.0)(Dense(3)(x));  // a temporary: rebuilt from its config
  Functional model({x}, {y});
  model.compile("adam", "mse");
  const Data d = affine_data();
  const double before = model.evaluate(d.x, d.y).at("loss");
  model.fit(d.x, d.y, {.epochs = 20, .batch_size = 16, .verbose = 0});
  EXPECT_LT(model.evaluate(d.x, d.y).at("loss"), before);
  const std::string path = ::testing::TempDir() + "axon_custom_functional.safetensors";
  save_model(model, path);
  const std::shared_ptr<Model> loaded = load_model(path);
  EXPECT_NE(model_to_spec(*loaded).find(R"("power": 2.0)"), std::string::npos) << model_to_spec(*loaded);
  EXPECT_TRUE(loaded->predict(d.x).allclose(model.predict(d.x), 0, 0));
}

TEST(CustomLayer, UnregisteredTypesFailNamingThem) {
  const std::string spec = R"({"input_shape": [3], "layers": [{"type": "scale_shift_v2"}]})";
  EXPECT_NE(error_of([&] { model_from_spec(spec); }).find("layers[0].type: expected a registered type ("),
            std::string::npos);
  EXPECT_NE(error_of([&] { model_from_spec(spec); }).find("got \"scale_shift_v2\""), std::string::npos);
  // A layer that never registered cannot be described in a model file; its weights can.
  struct Unregistered : Module {
    std::string type_name() const override { return "Unregistered"; }
    Variable forward(const Variable& x) override { return x; }
  };
  Sequential model(Shape{3});
  model.add(Unregistered());
  model.compile("sgd", "mse");
  EXPECT_NE(error_of([&] { save_model(model, ::testing::TempDir() + "never.safetensors"); }).find("is not registered"),
            std::string::npos);
  EXPECT_NO_THROW(save_weights(model, ::testing::TempDir() + "weights_only.safetensors"));
}

}  // namespace

namespace {

// The README's subclassed model, registered: saved and loaded with its architecture.
class TwoLayers : public Model {
  Dense& hidden = add(Dense(8, "relu"));
  Dense& output = add(Dense(2, "softmax"));

 public:
  Variable call(const Variable& x) override { return output(hidden(x)); }
};

AXON_REGISTER(Module, "two_layers", TwoLayers);

TEST(CustomLayer, ARegisteredSubclassedModelSavesWithItsArchitecture) {
  TwoLayers model;
  model.build(Shape{3});
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  const Tensor x = Generator(9).uniform({16, 3}, -1, 1);
  const std::string path = ::testing::TempDir() + "axon_subclassed.safetensors";
  save_model(model, path);
  const std::shared_ptr<Model> loaded = load_model(path);
  EXPECT_NE(dynamic_cast<TwoLayers*>(loaded.get()), nullptr);
  EXPECT_TRUE(loaded->compiled());
  EXPECT_TRUE(loaded->predict(x).allclose(model.predict(x), 0, 0));
  EXPECT_NE(loaded->summary().find("dense_1 (Dense)"), std::string::npos) << loaded->summary();
  EXPECT_NE(loaded->summary().find("Model: \"TwoLayers\""), std::string::npos) << loaded->summary();
}

}  // namespace
