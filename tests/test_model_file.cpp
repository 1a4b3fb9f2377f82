// Model files, weights files and checkpoints: exact round trips, bit-identical resume,
// clear errors, and a checkpoint that survives SIGKILL at any moment.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "axon/axon.h"
#include "axon/checkpoint.h"
#include "axon/model_file.h"
#include "axon/safetensors.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

std::string temp(const std::string& name) { return ::testing::TempDir() + "axon_" + name; }

struct Data {
  Tensor x, y;
};
Data data(int64_t n) {
  Generator gen(5);
  Data d{gen.uniform({n, 6}, -1, 1), Tensor::empty({n})};
  for (int64_t i = 0; i < n; ++i)
    d.y.data<float>()[i] = d.x.data<float>()[i * 6] > 0 ? 1.0f : (d.x.data<float>()[i * 6 + 1] > 0 ? 2.0f : 0.0f);
  return d;
}

std::unique_ptr<Sequential> make_model(uint64_t seed) {
  manual_seed(seed);
  auto model = std::make_unique<Sequential>(Shape{6});
  model->add(Dense(16, "relu"));
  model->add(Dropout(0.25));
  model->add(Dense(3, "softmax"));
  model->compile(Adam(0.01), "sparse_categorical_crossentropy", {"accuracy"});
  return model;
}

void expect_same_weights(const Model& a, const Model& b) {
  const std::vector<Tensor> wa = a.get_weights(), wb = b.get_weights();
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(wa[i].allclose(wb[i], 0, 0)) << "parameter " << i;
}

TEST(ModelFile, RoundTripGivesBitIdenticalPredictions) {
  const Data d = data(64);
  auto model = make_model(1);
  model->fit(d.x, d.y, {.epochs = 2, .verbose = 0});
  const std::string path = temp("model.safetensors");
  save_model(*model, path);
  const auto loaded = load_model(path);
  expect_same_weights(*model, *loaded);
  const Tensor a = model->predict(d.x), b = loaded->predict(d.x);
  EXPECT_EQ(std::memcmp(a.raw(), b.raw(), static_cast<size_t>(a.numel()) * 4), 0);
  EXPECT_EQ(loaded->loss().name, "sparse_categorical_crossentropy");
  const SafetensorsFile file = load_safetensors(path);
  EXPECT_EQ(file.metadata.at("axon.format_version"), "1");
  EXPECT_NE(file.metadata.at("axon.model").find("\"dropout\""), std::string::npos);
  EXPECT_EQ(file.at("layers.0.kernel").shape(), (Shape{6, 16}));
  EXPECT_EQ(file.at("layers.2.bias").shape(), (Shape{3}));
}

class Tiny : public Model {
  Dense& layer = add(Dense(2));

 public:
  Variable call(const Variable& x) override { return layer(x); }
};

TEST(ModelFile, FilesSayWhichVersionWroteThem) {
  Sequential model(Shape{3});
  model.add(Dense(2));
  model.build(Shape{3});
  const std::string path = ::testing::TempDir() + "axon_versioned.safetensors";
  save_model(model, path);
  EXPECT_EQ(load_safetensors(path).metadata.at("axon.version"), std::string(version()));
  EXPECT_EQ(std::string(version()), AXON_VERSION);
  save_weights(model, path);
  EXPECT_EQ(load_safetensors(path).metadata.at("axon.version"), std::string(version()));
}

TEST(ModelFile, WeightsFilesWorkForAnyModelAndCheckNames) {
  manual_seed(2);
  Tiny a, b;
  a.build(Shape{3});
  b.build(Shape{3});
  const std::string path = temp("weights.safetensors");
  save_weights(a, path);
  load_weights(b, path);
  expect_same_weights(a, b);
  EXPECT_NE(error_of([&] { load_model(path); }).find("weights only"), std::string::npos);
  Tiny wider;
  wider.build(Shape{4});
  EXPECT_NE(error_of([&] {
              load_weights(wider, path);
            }).find("tensor 'layers.0.kernel' has shape (3, 2), the model expects (4, 2)"),
            std::string::npos);
  Tiny unbuilt;
  EXPECT_THROW(load_weights(unbuilt, path), Error);
  EXPECT_THROW(load_model(temp("does-not-exist.safetensors")), Error);
}

TEST(Checkpoint, ThreeEpochsThenTwoResumedEqualsFiveStraight) {
  const Data d = data(200);
  const FitOptions options{.epochs = 5, .batch_size = 16, .verbose = 0, .seed = 9};
  auto straight = make_model(3);
  straight->fit(d.x, d.y, options);

  const std::string path = temp("resume.safetensors");
  auto first = make_model(3);
  FitOptions three = options;
  three.epochs = 3;
  three.callbacks = {std::make_shared<ModelCheckpoint>(path)};
  first->fit(d.x, d.y, three);

  auto resumed = make_model(77);  // different initial weights: the checkpoint must overwrite them all
  const int done = restore_checkpoint(*resumed, path);
  EXPECT_EQ(done, 3);
  EXPECT_EQ(resumed->optimizer().step_count(), first->optimizer().step_count());
  FitOptions rest = options;
  rest.initial_epoch = done;
  const History h = resumed->fit(d.x, d.y, rest);
  EXPECT_EQ(h.epochs, (std::vector<int>{3, 4}));
  expect_same_weights(*straight, *resumed);
}

TEST(Checkpoint, BestOnlyAndEpochPaths) {
  const Data d = data(64);
  auto model = make_model(4);
  const std::string pattern = temp("ckpt-{epoch}.safetensors");
  for (int e = 1; e <= 3; ++e) std::filesystem::remove(temp("ckpt-" + std::to_string(e) + ".safetensors"));
  const History h = model->fit(d.x, d.y,
                               {.epochs = 3,
                                .callbacks = {std::make_shared<ModelCheckpoint>(
                                    pattern, ModelCheckpoint::Options{.monitor = "loss", .save_best_only = true})},
                                .verbose = 0});
  // A file exists exactly for the epochs whose loss beat every earlier one.
  double best = INFINITY;
  int last_saved = 0;
  for (int e = 1; e <= 3; ++e) {
    const double loss = h.at("loss")[static_cast<size_t>(e - 1)];
    EXPECT_EQ(std::filesystem::exists(temp("ckpt-" + std::to_string(e) + ".safetensors")), loss < best)
        << "epoch " << e;
    if (loss < best) last_saved = e;
    best = std::min(best, loss);
  }
  auto other = make_model(4);
  EXPECT_EQ(restore_checkpoint(*other, temp("ckpt-" + std::to_string(last_saved) + ".safetensors")), last_saved);
  if (last_saved == 3) expect_same_weights(*model, *other);

  // A checkpoint of another optimizer is refused.
  manual_seed(4);
  Sequential sgd(Shape{6});
  sgd.add(Dense(16, "relu"));
  sgd.add(Dropout(0.25));
  sgd.add(Dense(3, "softmax"));
  sgd.compile("sgd", "sparse_categorical_crossentropy");
  EXPECT_THROW(restore_checkpoint(sgd, temp("ckpt-3.safetensors")), Error);
  // An unwritable checkpoint path is an error, not a silent skip.
  auto third = make_model(4);
  EXPECT_THROW(third->fit(d.x, d.y,
                          {.epochs = 1,
                           .callbacks = {std::make_shared<ModelCheckpoint>("/nonexistent-dir/c.safetensors")},
                           .verbose = 0}),
               Error);
}

TEST(Checkpoint, SurvivesSigkillAtAnyMoment) {
  const std::string path = temp("killed.safetensors");
  auto model = make_model(6);
  auto fill = [&](float value) {
    for (const Variable& p : model->parameters()) {
      Tensor t = p.value();
      t.fill(value);
    }
  };
  fill(0);
  save_checkpoint(*model, path, 0);
  Generator gen(8);
  for (int round = 0; round < 40; ++round) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {  // write generation k = 1, 2, ... as fast as possible until killed
      for (int k = 1;; ++k) {
        fill(static_cast<float>(k));
        save_checkpoint(*model, path, k);
      }
    }
    usleep(static_cast<useconds_t>(gen.below(20000)));
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    const SafetensorsFile file = load_safetensors(path);  // must always parse
    const int epoch = std::stoi(file.metadata.at("axon.checkpoint.epoch"));
    for (const NamedTensor& t : file.tensors) {
      if (t.name.rfind("optimizer.", 0) == 0) continue;
      for (double v : t.tensor.to_vector())
        ASSERT_EQ(v, epoch) << "round " << round << ": a mix of two checkpoints in " << t.name;
    }
  }
  for (const auto& entry : std::filesystem::directory_iterator(::testing::TempDir()))
    if (entry.path().filename().string().rfind(".axon_killed.safetensors.tmp-", 0) == 0)
      std::filesystem::remove(entry.path());
}

// Issue 17, defect 1: a spec nested a few hundred thousand levels deep (in a spec or
// in the axon.model string of a small model file) overflowed the stack. It is refused
// while parsing, before anything deep is built.
TEST(ModelFile, DeeplyNestedSpecsFailClearly) {
  const std::string deep =
      R"({"input_shape": [2], "layers": )" + std::string(300000, '[') + std::string(300000, ']') + "}";
  EXPECT_NE(error_of([&] { model_from_spec(deep); }).find("JSON nested deeper than 64 levels"), std::string::npos);
  const std::string path = temp("deep.safetensors");
  save_safetensors(path, {}, {{"axon.format_version", "1"}, {"axon.model", deep}});
  EXPECT_NE(error_of([&] { load_model(path); }).find("(axon.model): JSON nested deeper than 64 levels"),
            std::string::npos);
}

// Issue 17, defect 2: an 808-byte file declaring a Dense of a million units took 7 s
// and 3.1 GB before failing. Building stops at the first allocation the file cannot fill.
TEST(ModelFile, ATinyFileCannotForceAHugeAllocation) {
  const std::string path = temp("huge.safetensors");
  save_safetensors(path, {},
                   {{"axon.format_version", "1"},
                    {"axon.model", R"({"input_shape": [784], "layers": [{"type": "dense", "units": 1000000}]})"}});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_NE(error_of([&] { load_model(path); }).find("needs more memory than its weights could fill"),
            std::string::npos);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 0.5);
}

// Issue 17: the limits are options, with defaults documented in README.
TEST(ModelFile, LimitsAreOptions) {
  auto model = make_model(3);
  const std::string path = temp("limits.safetensors");
  save_model(*model, path);
  EXPECT_NO_THROW(load_model(path));
  const uint64_t size = std::filesystem::file_size(path);
  EXPECT_NE(test_support::error_of([&] { load_model(path, {.file = {.max_file_bytes = size - 1}}); }).find("limit"),
            std::string::npos);
  EXPECT_NE(test_support::error_of([&] {
              load_model(path, {.file = {.max_tensor_bytes = 100}});
            }).find("tensor 'layers.0.kernel' holds 384 bytes; the limit is 100"),
            std::string::npos);
  EXPECT_NE(test_support::error_of([&] {
              load_model(path, {.spec = {.max_layers = 2}});
            }).find("holds 3 layers; the limit is 2"),
            std::string::npos);
  EXPECT_NE(
      test_support::error_of([&] { load_model(path, {.spec = {.max_depth = 2}}); }).find("nested deeper than 2 levels"),
      std::string::npos);
}

}  // namespace
}  // namespace axon
