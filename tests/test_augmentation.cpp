// Augmentation: RandomFlip and RandomTranslation against their definitions, seeding,
// training batches only (validation and the caller's data untouched), exact resumption,
// and the spec's "augment" list.
#include <gtest/gtest.h>

#include "axon/axon.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

// Image i of x (C, H, W) as values, row-major.
std::vector<double> image(const Tensor& x, int64_t i) { return x.rows(i, i + 1).to_vector(); }

// x[i] shifted by (dy, dx) with zero fill, by the definition.
std::vector<double> shifted(const Tensor& x, int64_t i, int64_t dy, int64_t dx) {
  const int64_t c = x.dim(1), h = x.dim(2), w = x.dim(3);
  std::vector<double> out(static_cast<size_t>(c * h * w), 0.0);
  for (int64_t p = 0; p < c; ++p)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t xx = 0; xx < w; ++xx)
        if (y - dy >= 0 && y - dy < h && xx - dx >= 0 && xx - dx < w)
          out[static_cast<size_t>((p * h + y) * w + xx)] = x.at({i, p, y - dy, xx - dx});
  return out;
}

std::vector<double> mirrored(const Tensor& x, int64_t i, bool left_right) {
  const int64_t c = x.dim(1), h = x.dim(2), w = x.dim(3);
  std::vector<double> out;
  for (int64_t p = 0; p < c; ++p)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t xx = 0; xx < w; ++xx)
        out.push_back(left_right ? x.at({i, p, y, w - 1 - xx}) : x.at({i, p, h - 1 - y, xx}));
  return out;
}

TEST(Augmentation, RandomFlipMirrorsAboutHalfTheImages) {
  Generator data(1);
  const Tensor x = data.uniform({400, 2, 5, 7}, 0, 1);
  for (const char* mode : {"horizontal", "vertical"}) {
    Tensor y = x.clone();
    Generator gen(2);
    RandomFlip(mode).apply(y, gen);
    const bool left_right = std::string(mode) == "horizontal";
    int flipped = 0;
    for (int64_t i = 0; i < x.dim(0); ++i) {
      const std::vector<double> out = image(y, i);
      if (out == mirrored(x, i, left_right))
        ++flipped;
      else
        EXPECT_EQ(out, image(x, i)) << mode << " image " << i;
    }
    EXPECT_GT(flipped, 160) << mode;  // Binomial(400, 1/2): 200 +- 10
    EXPECT_LT(flipped, 240) << mode;
  }
  EXPECT_EQ(error_of([] { RandomFlip("diagonal"); }),
            "RandomFlip: mode must be \"horizontal\", \"vertical\" or \"horizontal_and_vertical\", got \"diagonal\"");
  Tensor flat = Tensor::zeros({2, 784});
  Generator gen(0);
  EXPECT_EQ(error_of([&] { RandomFlip().apply(flat, gen); }),
            "RandomFlip: expects images (batch, channels, height, width), got (2, 784)");
}

TEST(Augmentation, RandomTranslationShiftsWithZeroFill) {
  Generator data(3);
  const Tensor x = data.uniform({300, 1, 6, 5}, 0.5, 1);  // no zeros, so a shift is identifiable
  Tensor y = x.clone();
  Generator gen(4);
  RandomTranslation(2).apply(y, gen);
  std::map<std::pair<int64_t, int64_t>, int> seen;
  for (int64_t i = 0; i < x.dim(0); ++i) {
    const std::vector<double> out = image(y, i);
    bool found = false;
    for (int64_t dy = -2; dy <= 2 && !found; ++dy)
      for (int64_t dx = -2; dx <= 2 && !found; ++dx)
        if (out == shifted(x, i, dy, dx)) {
          found = true;
          ++seen[{dy, dx}];
        }
    EXPECT_TRUE(found) << "image " << i << " is not a shift of at most 2 pixels";
  }
  EXPECT_EQ(seen.size(), 25u);  // every shift in [-2, 2]^2 occurs
  Tensor same = x.clone();
  RandomTranslation(0).apply(same, gen);
  EXPECT_TRUE(same.allclose(x, 0, 0));
  EXPECT_EQ(error_of([] { RandomTranslation(-1); }), "RandomTranslation: pixels must be >= 0, got -1");
}

Sequential small_cnn() {
  manual_seed(9);
  Sequential model(Shape{1, 6, 6});
  model.add(Conv2D(2, {3, 3}, "relu", {.padding = "same"}));
  model.add(MaxPool2D());
  model.add(Flatten());
  model.add(Dense(3, "softmax"));
  model.compile(Adam(1e-2), "sparse_categorical_crossentropy", {"accuracy"});
  return model;
}

TEST(Augmentation, DataLoaderDrawsDependOnSeedEpochAndBatchOnly) {
  Generator data(5);
  auto dataset = std::make_shared<TensorDataset>(data.uniform({64, 1, 6, 6}, 0.5, 1), Tensor::zeros({64}));
  auto epoch_batches = [&](uint64_t seed, int epochs) {
    DataLoader loader(dataset, 16, false, 0);
    loader.set_augmentations({std::make_shared<RandomFlip>(), std::make_shared<RandomTranslation>(1)}, seed);
    std::vector<std::vector<double>> batches;
    for (int e = 0; e < epochs; ++e) {
      loader.start_epoch();
      for (int64_t b = 0; b < loader.num_batches(); ++b) batches.push_back(loader.batch(b).x.to_vector());
    }
    return batches;
  };
  const auto a = epoch_batches(7, 2), b = epoch_batches(7, 2), c = epoch_batches(8, 2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a[0], a[4]);  // the same examples in epoch 2 get other draws
  EXPECT_NE(a[0], dataset->x().rows(0, 16).to_vector());
  DataLoader flat(std::make_shared<TensorDataset>(Tensor::zeros({4, 36}), Tensor::zeros({4})), 2);
  EXPECT_EQ(error_of([&] { flat.set_augmentations({std::make_shared<RandomFlip>()}, 0); }),
            "DataLoader: random_flip needs images (channels, height, width) per example, got (36,)");
}

TEST(Augmentation, FitAugmentsTrainingBatchesOnlyAndResumesExactly) {
  Generator data(6);
  const Tensor x = data.uniform({96, 1, 6, 6}, 0, 1), y = Tensor::from(std::vector<float>(96, 1.0f), {96});
  const Tensor x_before = x.clone();
  const Augmentations augment{std::make_shared<RandomFlip>(), std::make_shared<RandomTranslation>(1)};
  Sequential whole = small_cnn();
  const History history = whole.fit(
      x, y, {.epochs = 3, .batch_size = 16, .validation_split = 0.25, .verbose = 0, .seed = 3, .augment = augment});
  EXPECT_TRUE(x.allclose(x_before, 0, 0));  // the caller's data is not touched
  // Validation is not augmented: its loss is what evaluate() gives on the same rows.
  EXPECT_NEAR(history.logs.back().at("val_loss"), whole.evaluate(x.rows(72, 96), y.rows(72, 96), 16).at("loss"), 1e-6);
  Sequential resumed = small_cnn();
  resumed.fit(x, y,
              {.epochs = 1, .batch_size = 16, .validation_split = 0.25, .verbose = 0, .seed = 3, .augment = augment});
  resumed.fit(x, y,
              {.epochs = 3,
               .batch_size = 16,
               .validation_split = 0.25,
               .verbose = 0,
               .seed = 3,
               .initial_epoch = 1,
               .augment = augment});
  for (size_t i = 0; i < whole.parameters().size(); ++i)
    EXPECT_TRUE(whole.parameters()[i].value().allclose(resumed.parameters()[i].value(), 0, 0)) << i;
  // Without augmentation training differs.
  Sequential plain = small_cnn();
  plain.fit(x, y, {.epochs = 3, .batch_size = 16, .validation_split = 0.25, .verbose = 0, .seed = 3});
  EXPECT_FALSE(plain.parameters()[0].value().allclose(whole.parameters()[0].value(), 0, 0));
  Sequential dense(Shape{4});
  dense.add(Dense(1));
  dense.compile(SGD(0.1), "mse");
  EXPECT_EQ(error_of([&] {
              dense.fit(Tensor::zeros({8, 4}), Tensor::zeros({8, 1}), {.verbose = 0, .augment = augment});
            }),
            "fit: augment: DataLoader: random_flip needs images (channels, height, width) per example, got (4,)");
}

TEST(Augmentation, SpecAugmentList) {
  const std::string spec = R"({"input_shape": [1, 6, 6], "layers": [{"type": "flatten"}],
    "augment": [{"type": "random_flip", "mode": "vertical"}, {"type": "random_translation", "pixels": 3}]})";
  const Augmentations list = parse_spec(spec).augment;
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(dynamic_cast<const RandomFlip&>(*list[0]).mode(), "vertical");
  EXPECT_EQ(dynamic_cast<const RandomTranslation&>(*list[1]).pixels(), 3);
  EXPECT_NO_THROW(model_from_spec(spec));
  EXPECT_TRUE(parse_spec(R"({"layers": [{"type": "flatten"}]})").augment.empty());
  EXPECT_EQ(
      error_of([] { parse_spec(R"({"augment": [{"type": "random_rotation"}]})"); }),
      "spec: augment[0].type: expected a registered type (random_flip, random_translation), got \"random_rotation\"");
  EXPECT_EQ(error_of([] { parse_spec(R"({"augment": [{"type": "random_translation", "pixels": -2}]})"); }),
            "spec: augment[0].pixels: expected an integer >= 0, got -2");
  EXPECT_EQ(
      error_of([] {
        model_from_spec(R"({"layers": [{"type": "flatten"}], "augment": [{"type": "random_flip", "mode": "up"}]})");
      }),
      "spec: augment[0]: RandomFlip: mode must be \"horizontal\", \"vertical\" or \"horizontal_and_vertical\", got "
      "\"up\"");
}

}  // namespace
}  // namespace axon
