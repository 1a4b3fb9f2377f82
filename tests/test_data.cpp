// The data layer above the readers: Dataset, DataLoader, scalers, splits and
// Fashion-MNIST.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>

#include "axon/data_loader.h"
#include "axon/dataset.h"
#include "axon/packaged_datasets.h"
#include "axon/preprocessing.h"
#include "axon/splits.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

// n examples: x row i = (i, 100 + i, 200 + i), y[i] = i % classes.
std::shared_ptr<TensorDataset> numbered(int64_t n, int64_t classes = 3) {
  Tensor x = Tensor::empty(Shape{n, 3}), y = Tensor::empty(Shape{n});
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < 3; ++j) x.data<float>()[i * 3 + j] = static_cast<float>(100 * j + i);
    y.data<float>()[i] = static_cast<float>(i % classes);
  }
  return std::make_shared<TensorDataset>(x, y);
}

// The example ids (x's first column) of a batch, checking each row is intact.
std::vector<int64_t> ids_of(const Batch& batch) {
  std::vector<int64_t> ids;
  for (int64_t r = 0; r < batch.x.dim(0); ++r) {
    const int64_t id = static_cast<int64_t>(batch.x.at({r, 0}));
    EXPECT_EQ(batch.x.at({r, 2}), 200 + id);
    EXPECT_EQ(batch.y.at({r}), id % 3);
    ids.push_back(id);
  }
  return ids;
}

// All example ids of one epoch, in the order served.
std::vector<int64_t> epoch_ids(DataLoader& loader) {
  loader.start_epoch();
  std::vector<int64_t> ids;
  for (int64_t b = 0; b < loader.num_batches(); ++b) {
    const std::vector<int64_t> batch = ids_of(loader.batch(b));
    ids.insert(ids.end(), batch.begin(), batch.end());
  }
  return ids;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), int64_t{0});
  return v;
}

// ------------------------------------------------------------------------------ Dataset

TEST(TensorDataset, SizeShapesAndExamples) {
  const auto data = numbered(5);
  EXPECT_EQ(data->size(), 5);
  EXPECT_EQ(data->x_shape(), Shape{3});
  EXPECT_EQ(data->y_shape(), Shape{});
  const Example e = data->get(4);
  EXPECT_EQ(e.x.shape(), Shape{3});
  EXPECT_EQ(e.x.to_vector(), (std::vector<double>{4, 104, 204}));
  EXPECT_EQ(e.y.shape(), Shape{});
  EXPECT_EQ(e.y.item(), 1);
  EXPECT_NE(error_of([&] { data->get(5); }).find("index 5 is out of range for 5 examples"), std::string::npos);
  EXPECT_NE(error_of([&] { data->get(-1); }).find("out of range"), std::string::npos);
}

TEST(TensorDataset, MismatchedLengthsNameBothCounts) {
  const std::string message = error_of([] { TensorDataset(Tensor::zeros(Shape{100, 2}), Tensor::zeros(Shape{99})); });
  EXPECT_EQ(message, "TensorDataset: x has 100 examples but y has 99");
  EXPECT_NE(error_of([] { TensorDataset(Tensor::scalar(1), Tensor::zeros(Shape{1})); }).find("first (example) axis"),
            std::string::npos);
}

TEST(TensorDataset, GatherCopiesRowsAndConvertsFloat64) {
  const auto data = numbered(6);
  Tensor x, y;
  data->gather({5, 0, 5}, x, y);
  EXPECT_EQ(x.shape(), (Shape{3, 3}));
  EXPECT_EQ(x.dtype(), DType::f32);
  EXPECT_EQ(x.to_vector(), (std::vector<double>{5, 105, 205, 0, 100, 200, 5, 105, 205}));
  EXPECT_EQ(y.to_vector(), (std::vector<double>{2, 0, 2}));

  TensorDataset doubles(Tensor::from(std::vector<double>{0.5, 1.5, 2.5, 3.5}, Shape{2, 2}),
                        Tensor::from(std::vector<double>{7, 8}, Shape{2, 1}));
  Tensor xf = Tensor::zeros(Shape{1, 2}), yf = Tensor::zeros(Shape{1, 1});
  doubles.gather({1}, xf, yf);
  EXPECT_EQ(xf.dtype(), DType::f32);
  EXPECT_EQ(xf.to_vector(), (std::vector<double>{2.5, 3.5}));
  EXPECT_EQ(yf.to_vector(), (std::vector<double>{8}));
  Tensor wrong = Tensor::zeros(Shape{2, 2});
  EXPECT_NE(error_of([&] { doubles.gather({1}, wrong, yf); }).find("expected (1, 2)"), std::string::npos);
  EXPECT_NE(error_of([&] { doubles.gather({2}, xf, yf); }).find("index 2 is out of range"), std::string::npos);
}

TEST(TensorDataset, LargeGatherMatchesRowByRow) {
  // Big enough for the parallel copy.
  const int64_t n = 3000, width = 50;
  Tensor x = Tensor::empty(Shape{n, width});
  for (int64_t i = 0; i < n * width; ++i) x.data<float>()[i] = static_cast<float>(i);
  TensorDataset data(x, Tensor::zeros(Shape{n}));
  std::vector<int64_t> indices(2000);
  for (size_t k = 0; k < indices.size(); ++k) indices[k] = static_cast<int64_t>((k * 7919) % n);
  Tensor gx, gy;
  data.gather(indices, gx, gy);
  for (size_t k = 0; k < indices.size(); ++k)
    ASSERT_EQ(gx.data<float>()[k * width + 13], static_cast<float>(indices[k] * width + 13)) << k;
}

// A dataset computed on the fly, to exercise the default gather through get().
class Squares : public Dataset {
 public:
  int64_t size() const override { return 4; }
  Example get(int64_t i) const override {
    if (i < 0 || i >= 4) fail("Squares::get: index ", i, " is out of range");
    return {Tensor::full(Shape{2}, static_cast<double>(i)), Tensor::scalar(static_cast<double>(i * i))};
  }
  Shape x_shape() const override { return Shape{2}; }
  Shape y_shape() const override { return Shape{}; }
};

TEST(Dataset, DefaultGatherGoesThroughGet) {
  Squares squares;
  Tensor x, y;
  squares.gather({3, 1}, x, y);
  EXPECT_EQ(x.shape(), (Shape{2, 2}));
  EXPECT_EQ(x.to_vector(), (std::vector<double>{3, 3, 1, 1}));
  EXPECT_EQ(y.shape(), Shape{2});
  EXPECT_EQ(y.to_vector(), (std::vector<double>{9, 1}));
  DataLoader loader(std::make_shared<Squares>(), 3);
  EXPECT_EQ(loader.batch(1).y.to_vector(), (std::vector<double>{9}));
}

TEST(Subset, MapsIndicesThroughTheBase) {
  const auto base = numbered(10);
  Subset subset(base, {7, 2, 7});
  EXPECT_EQ(subset.size(), 3);
  EXPECT_EQ(subset.x_shape(), Shape{3});
  EXPECT_EQ(subset.get(1).x.to_vector(), (std::vector<double>{2, 102, 202}));
  Tensor x, y;
  subset.gather({2, 0, 1}, x, y);
  EXPECT_EQ(x.to_vector(), (std::vector<double>{7, 107, 207, 7, 107, 207, 2, 102, 202}));
  EXPECT_NE(error_of([&] { subset.get(3); }).find("out of range"), std::string::npos);
  EXPECT_NE(error_of([&] { Subset(base, {0, 10}); }).find("indices[1] = 10 is out of range"), std::string::npos);
  EXPECT_NE(error_of([&] { Subset(nullptr, {}); }).find("null"), std::string::npos);
}

// --------------------------------------------------------------------------- DataLoader

TEST(DataLoader, InOrderWithoutShuffleAndAPartialLastBatch) {
  DataLoader loader(numbered(10), 4);
  EXPECT_EQ(loader.num_batches(), 3);
  EXPECT_EQ(loader.size(), 10);
  loader.start_epoch();
  EXPECT_EQ(ids_of(loader.batch(0)), (std::vector<int64_t>{0, 1, 2, 3}));
  const Batch last = loader.batch(2);
  EXPECT_EQ(last.x.shape(), (Shape{2, 3}));
  EXPECT_EQ(last.y.shape(), Shape{2});
  EXPECT_EQ(ids_of(last), (std::vector<int64_t>{8, 9}));
  EXPECT_EQ(epoch_ids(loader), iota(10));
}

TEST(DataLoader, ShuffleServesEveryExampleOncePerEpochInANewOrder) {
  DataLoader loader(numbered(103), 10, true, 42);
  std::set<std::vector<int64_t>> orders;
  for (int epoch = 0; epoch < 4; ++epoch) {
    std::vector<int64_t> ids = epoch_ids(loader);
    EXPECT_NE(ids, iota(103));
    orders.insert(ids);
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, iota(103)) << "epoch " << epoch;
  }
  EXPECT_EQ(orders.size(), 4u);
}

TEST(DataLoader, SameSeedSameOrderOtherSeedOtherOrder) {
  DataLoader a(numbered(50), 8, true, 7), b(numbered(50), 8, true, 7), c(numbered(50), 8, true, 8);
  for (int epoch = 0; epoch < 3; ++epoch) {
    const std::vector<int64_t> ids = epoch_ids(a);
    EXPECT_EQ(ids, epoch_ids(b));
    EXPECT_NE(ids, epoch_ids(c));
  }
}

// Data-parallel shards: 3 ranks at 4 rows each take steps of 12 rows of one shuffled
// order; the ranks' shares of an epoch are that order, each row once, and a last step
// of fewer rows than ranks is left out.
TEST(DataLoader, ShardsSplitEachGlobalBatchAmongTheRanks) {
  for (const int64_t n : {38, 37}) {                 // the last step holds 2 rows (< 3 ranks) or 1 (also left out)
    DataLoader whole(numbered(n + 3), 12, true, 9);  // 3 more rows: a last step of 5 or 4 rows, shared
    std::vector<DataLoader> ranks;
    for (int r = 0; r < 3; ++r) {
      ranks.emplace_back(numbered(n + 3), 4, true, 9);
      ranks.back().shard(r, 3);
    }
    for (int epoch = 0; epoch < 2; ++epoch) {
      const std::vector<int64_t> order = epoch_ids(whole);
      std::vector<int64_t> joined;
      for (DataLoader& rank : ranks) {
        EXPECT_EQ(rank.num_batches(), 4);
        rank.start_epoch();
      }
      for (int64_t b = 0; b < 4; ++b)
        for (DataLoader& rank : ranks) {
          EXPECT_EQ(rank.global_batch_rows(b), b < 3 ? 12 : n + 3 - 36);
          const std::vector<int64_t> ids = ids_of(rank.batch(b));
          EXPECT_FALSE(ids.empty());
          joined.insert(joined.end(), ids.begin(), ids.end());
        }
      EXPECT_EQ(joined, order) << "n " << n << ", epoch " << epoch;
    }
  }
  DataLoader short_tail(numbered(38), 4, true, 9);  // 36 + 2 rows: the 2 are left out on 3 ranks
  short_tail.shard(1, 3);
  EXPECT_EQ(short_tail.num_batches(), 3);
  EXPECT_EQ(short_tail.size(), 36);
  EXPECT_NE(error_of([&] { short_tail.shard(3, 3); }).find("rank 3 is not one of 3 ranks"), std::string::npos);
}

TEST(DataLoader, DropLastServesOnlyFullBatches) {
  DataLoader loader(numbered(10), 4, true, 1, true);
  EXPECT_EQ(loader.num_batches(), 2);
  EXPECT_EQ(loader.size(), 8);
  const std::vector<int64_t> ids = epoch_ids(loader);
  EXPECT_EQ(ids.size(), 8u);
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), 8u);
  EXPECT_EQ(loader.batch(1).x.dim(0), 4);
  EXPECT_NE(error_of([&] { loader.batch(2); }).find("batch 2 is out of range for 2 batches"), std::string::npos);
  EXPECT_EQ(DataLoader(numbered(8), 4, false, 0, true).num_batches(), 2);
}

TEST(DataLoader, BuffersAreAllocatedOnce) {
  DataLoader loader(numbered(10), 4, true, 3);
  loader.start_epoch();
  const Batch first = loader.batch(0);
  const void* x_memory = first.x.raw();
  const void* y_memory = first.y.raw();
  for (int epoch = 0; epoch < 3; ++epoch) {
    loader.start_epoch();
    for (int64_t b = 0; b < loader.num_batches(); ++b) {
      const Batch batch = loader.batch(b);
      EXPECT_EQ(batch.x.raw(), x_memory);
      EXPECT_EQ(batch.y.raw(), y_memory);
    }
  }
}

TEST(DataLoader, BatchLargerThanTheDatasetIsOneBatch) {
  DataLoader loader(numbered(3), 64);
  EXPECT_EQ(loader.num_batches(), 1);
  EXPECT_EQ(ids_of(loader.batch(0)), (std::vector<int64_t>{0, 1, 2}));
}

TEST(DataLoader, OverASubset) {
  DataLoader loader(std::make_shared<Subset>(numbered(20), std::vector<int64_t>{19, 3, 11}), 2);
  EXPECT_EQ(epoch_ids(loader), (std::vector<int64_t>{19, 3, 11}));
}

TEST(DataLoader, BadSettingsAreErrors) {
  EXPECT_NE(error_of([] { DataLoader(numbered(10), 0); }).find("batch_size must be at least 1, got 0"),
            std::string::npos);
  EXPECT_NE(error_of([] { DataLoader(numbered(0), 4); }).find("empty"), std::string::npos);
  EXPECT_NE(error_of([] { DataLoader(nullptr, 4); }).find("null"), std::string::npos);
  EXPECT_NE(error_of([] { DataLoader(numbered(3), 4, false, 0, true); }).find("drop_last"), std::string::npos);
}

// ------------------------------------------------------------------------ preprocessing

TEST(StandardScaler, PerFeatureMeanAndPopulationStd) {
  const Tensor x = Tensor::from(std::vector<float>{1, 10, 5, 2, 20, 5, 3, 30, 5, 4, 40, 5}, Shape{4, 3});
  StandardScaler scaler;
  const Tensor z = scaler.fit_transform(x);
  EXPECT_EQ(scaler.mean().shape(), Shape{3});
  EXPECT_TRUE(scaler.mean().allclose(Tensor::from(std::vector<double>{2.5, 25, 5}, Shape{3})));
  EXPECT_TRUE(
      scaler.scale().allclose(Tensor::from(std::vector<double>{std::sqrt(1.25), std::sqrt(125.0), 1}, Shape{3})));
  const double a = 1.5 / std::sqrt(1.25), b = 0.5 / std::sqrt(1.25);
  EXPECT_EQ(z.dtype(), DType::f32);
  EXPECT_TRUE(z.allclose(Tensor::from(std::vector<float>{float(-a), float(-a), 0, float(-b), float(-b), 0, float(b),
                                                         float(b), 0, float(a), float(a), 0},
                                      Shape{4, 3}),
                         1e-5, 1e-6));
  EXPECT_TRUE(scaler.inverse_transform(z).allclose(x, 1e-5, 1e-5));
}

TEST(StandardScaler, ConstantFeatureWithRoundingGetsScaleOne) {
  // 0.1 is not exact in binary: a computed variance would be a tiny non-zero number.
  const Tensor x = Tensor::full(Shape{7, 1}, 0.1);
  StandardScaler scaler;
  scaler.fit(x);
  EXPECT_EQ(scaler.scale().item(), 1.0);
  EXPECT_LT(std::abs(scaler.transform(x).at({3, 0})), 1e-7);
}

TEST(StandardScaler, MisuseIsAnError) {
  StandardScaler scaler;
  EXPECT_NE(error_of([&] { scaler.transform(Tensor::zeros(Shape{2, 3})); }).find("not fitted"), std::string::npos);
  scaler.fit(Tensor::ones(Shape{2, 3}));
  EXPECT_NE(error_of([&] {
              scaler.transform(Tensor::zeros(Shape{2, 4}));
            }).find("fitted on features of shape (3,)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { scaler.fit(Tensor::zeros(Shape{0, 3})); }).find("no examples"), std::string::npos);
}

TEST(MinMaxScaler, MapsTrainingRangeAndConstantsToLow) {
  const Tensor x = Tensor::from(std::vector<float>{0, 7, 5, 7, 10, 7}, Shape{3, 2});
  MinMaxScaler scaler(-1, 1);
  const Tensor z = scaler.fit_transform(x);
  EXPECT_TRUE(z.allclose(Tensor::from(std::vector<float>{-1, -1, 0, -1, 1, -1}, Shape{3, 2})));
  EXPECT_TRUE(scaler.transform(Tensor::from(std::vector<float>{20, 7}, Shape{1, 2}))
                  .allclose(Tensor::from(std::vector<float>{3, -1}, Shape{1, 2})));
  EXPECT_NE(error_of([] { MinMaxScaler(1, 1); }).find("low < high"), std::string::npos);
  EXPECT_NE(error_of([] {
              MinMaxScaler().transform(Tensor::zeros(Shape{1, 1}));
            }).find("not fitted"),
            std::string::npos);
  EXPECT_NE(error_of([&] { scaler.transform(Tensor::zeros(Shape{1, 3})); }).find("fitted on"), std::string::npos);
}

TEST(OneHot, EncodesAndRejectsBadLabels) {
  const Tensor encoded = one_hot(Tensor::from(std::vector<float>{2, 0, 1}, Shape{3}), 3);
  EXPECT_EQ(encoded.shape(), (Shape{3, 3}));
  EXPECT_EQ(encoded.to_vector(), (std::vector<double>{0, 0, 1, 1, 0, 0, 0, 1, 0}));
  EXPECT_NE(error_of([] {
              one_hot(Tensor::from(std::vector<float>{0, 2.5}, Shape{2}), 3);
            }).find("labels[1] = 2.5"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              one_hot(Tensor::from(std::vector<float>{3}, Shape{1}), 3);
            }).find("labels[0] = 3 is not a class index in [0, 3)"),
            std::string::npos);
  EXPECT_NE(error_of([] { one_hot(Tensor::from(std::vector<float>{-1}, Shape{1}), 3); }).find("labels[0] = -1"),
            std::string::npos);
  EXPECT_NE(error_of([] { one_hot(Tensor::zeros(Shape{2, 1}), 3); }).find("shape (n,)"), std::string::npos);
}

// ------------------------------------------------------------------------------- splits

TEST(TrainTestSplit, SizesDisjointAlignedAndReproducible) {
  const auto data = numbered(10);
  const TrainTestSplit split = train_test_split(data->x(), data->y(), 0.25, false, 5);
  EXPECT_EQ(split.x_test.shape(), (Shape{3, 3}));  // ceil(2.5)
  EXPECT_EQ(split.x_train.shape(), (Shape{7, 3}));
  EXPECT_EQ(split.y_train.shape(), Shape{7});
  std::vector<int64_t> ids;
  for (const auto& [x, y] : {std::pair{split.x_train, split.y_train}, std::pair{split.x_test, split.y_test}})
    for (int64_t r = 0; r < x.dim(0); ++r) {
      ids.push_back(static_cast<int64_t>(x.at({r, 0})));
      EXPECT_EQ(y.at({r}), ids.back() % 3);  // rows stay paired
    }
  std::vector<int64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, iota(10));
  EXPECT_NE(ids, iota(10));  // shuffled
  const TrainTestSplit again = train_test_split(data->x(), data->y(), 0.25, false, 5);
  EXPECT_EQ(again.x_test.to_vector(), split.x_test.to_vector());
  EXPECT_NE(train_test_split(data->x(), data->y(), 0.25, false, 6).x_train.to_vector(), split.x_train.to_vector());
}

TEST(TrainTestSplit, StratifiedKeepsClassProportions) {
  // 60 of class 0, 30 of class 1, 10 of class 2; 20 % test -> 12, 6, 2.
  Tensor x = Tensor::empty(Shape{100, 1}), y = Tensor::empty(Shape{100});
  for (int64_t i = 0; i < 100; ++i) {
    x.data<float>()[i] = static_cast<float>(i);
    y.data<float>()[i] = i < 60 ? 0.f : i < 90 ? 1.f : 2.f;
  }
  const TrainTestSplit split = train_test_split(x, y, 0.2, true, 3);
  std::map<double, int> test_counts, train_counts;
  for (double v : split.y_test.to_vector()) ++test_counts[v];
  for (double v : split.y_train.to_vector()) ++train_counts[v];
  EXPECT_EQ(test_counts, (std::map<double, int>{{0, 12}, {1, 6}, {2, 2}}));
  EXPECT_EQ(train_counts, (std::map<double, int>{{0, 48}, {1, 24}, {2, 8}}));
  for (int64_t r = 0; r < split.x_test.dim(0); ++r) {
    const double id = split.x_test.at({r, 0});
    EXPECT_EQ(split.y_test.at({r}), id < 60 ? 0 : id < 90 ? 1 : 2);
  }
}

TEST(TrainTestSplit, StratifiedRoundsToTheExactTestSize) {
  // 7 / 7 / 7 with 10 % test: ceil(2.1) = 3 test examples, one of each class.
  Tensor y = Tensor::empty(Shape{21});
  for (int64_t i = 0; i < 21; ++i) y.data<float>()[i] = static_cast<float>(i % 3);
  const TrainTestSplit split = train_test_split(Tensor::zeros(Shape{21, 2}), y, 0.1, true);
  std::vector<double> labels = split.y_test.to_vector();
  std::sort(labels.begin(), labels.end());
  EXPECT_EQ(labels, (std::vector<double>{0, 1, 2}));
}

TEST(TrainTestSplit, BadArgumentsAreErrors) {
  const auto data = numbered(10);
  for (double bad : {0.0, 1.0, -0.5, 1.5, std::nan("")})
    EXPECT_NE(error_of([&] { train_test_split(data->x(), data->y(), bad); }).find("test_size must be in (0, 1)"),
              std::string::npos);
  EXPECT_NE(error_of([&] { train_test_split(data->x(), Tensor::zeros(Shape{9}), 0.2); }).find("same number"),
            std::string::npos);
  Tensor y = Tensor::zeros(Shape{10});
  y.data<float>()[4] = 1;
  EXPECT_NE(error_of([&] { train_test_split(data->x(), y, 0.2, true); }).find("at least 2 examples of every class"),
            std::string::npos);
  EXPECT_NE(error_of([&] { train_test_split(data->x(), data->y(), 0.95); }).find("leaves no training examples"),
            std::string::npos);
}

// Checks that the test sets partition 0..n-1 and each train set is its complement.
void expect_partition(const std::vector<Fold>& folds, int64_t n) {
  std::vector<int64_t> all_tests;
  for (const Fold& fold : folds) {
    EXPECT_TRUE(std::is_sorted(fold.test.begin(), fold.test.end()));
    EXPECT_TRUE(std::is_sorted(fold.train.begin(), fold.train.end()));
    std::vector<int64_t> both = fold.train;
    both.insert(both.end(), fold.test.begin(), fold.test.end());
    std::sort(both.begin(), both.end());
    EXPECT_EQ(both, iota(n));
    all_tests.insert(all_tests.end(), fold.test.begin(), fold.test.end());
  }
  std::sort(all_tests.begin(), all_tests.end());
  EXPECT_EQ(all_tests, iota(n));
}

TEST(KFold, SizesPartitionAndContiguousBlocksWithoutShuffle) {
  const std::vector<Fold> folds = k_fold(10, 3, false);
  ASSERT_EQ(folds.size(), 3u);
  EXPECT_EQ(folds[0].test, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(folds[1].test, (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(folds[2].test, (std::vector<int64_t>{7, 8, 9}));
  EXPECT_EQ(folds[1].train, (std::vector<int64_t>{0, 1, 2, 3, 7, 8, 9}));
  expect_partition(folds, 10);
}

TEST(KFold, ShuffledIsAReproduciblePartition) {
  const std::vector<Fold> folds = k_fold(23, 5, true, 9);
  expect_partition(folds, 23);
  EXPECT_NE(folds[0].test, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  for (size_t f = 0; f < folds.size(); ++f) EXPECT_EQ(folds[f].test.size(), f < 3 ? 5u : 4u);
  EXPECT_EQ(k_fold(23, 5, true, 9)[2].test, folds[2].test);
  EXPECT_NE(k_fold(23, 5, true, 10)[2].test, folds[2].test);
  EXPECT_NE(error_of([] { k_fold(10, 1); }).find("k must be at least 2"), std::string::npos);
  EXPECT_NE(error_of([] { k_fold(3, 4); }).find("need at least 4 examples"), std::string::npos);
}

TEST(StratifiedKFold, EachClassSpreadEvenly) {
  // 52 of class 0, 21 of class 1, 5 of class 2 (labels interleaved), 5 folds.
  std::vector<float> values;
  for (int i = 0; i < 52; ++i) values.push_back(0);
  for (int i = 0; i < 21; ++i) values.push_back(1);
  for (int i = 0; i < 5; ++i) values.push_back(2);
  std::vector<float> shuffled(values.size());
  for (size_t i = 0; i < values.size(); ++i) shuffled[(i * 31) % values.size()] = values[i];
  const Tensor labels = Tensor::from(shuffled, Shape{78});
  const std::vector<Fold> folds = stratified_k_fold(labels, 5, 4);
  ASSERT_EQ(folds.size(), 5u);
  expect_partition(folds, 78);
  for (const Fold& fold : folds) {
    std::map<float, int64_t> counts;
    for (int64_t i : fold.test) ++counts[shuffled[static_cast<size_t>(i)]];
    EXPECT_GE(counts[0], 10);
    EXPECT_LE(counts[0], 11);
    EXPECT_GE(counts[1], 4);
    EXPECT_LE(counts[1], 5);
    EXPECT_EQ(counts[2], 1);
    EXPECT_GE(fold.test.size(), 15u);
    EXPECT_LE(fold.test.size(), 16u);
  }
  EXPECT_EQ(stratified_k_fold(labels, 5, 4)[3].test, folds[3].test);
  EXPECT_NE(error_of([&] { stratified_k_fold(labels, 1); }).find("k must be at least 2"), std::string::npos);
  EXPECT_NE(error_of([&] { stratified_k_fold(labels, 79); }).find("need at least 79 examples"), std::string::npos);
}

TEST(TakeRows, CopiesRowsInOrder) {
  const auto data = numbered(5);
  const Tensor rows = take_rows(data->x(), {4, 0, 4});
  EXPECT_EQ(rows.shape(), (Shape{3, 3}));
  EXPECT_EQ(rows.to_vector(), (std::vector<double>{4, 104, 204, 0, 100, 200, 4, 104, 204}));
  EXPECT_EQ(take_rows(data->y(), {}).shape(), Shape{0});
  EXPECT_NE(error_of([&] {
              take_rows(data->x(), {1, 5});
            }).find("indices[1] = 5 is out of range for 5 rows"),
            std::string::npos);
  EXPECT_NE(error_of([&] { take_rows(Tensor::scalar(1), {0}); }).find("rank >= 1"), std::string::npos);
}

// ------------------------------------------------------------------------ Fashion-MNIST

TEST(FashionMnist, LoadsTheInstalledDataset) {
  const char* from_env = std::getenv("AXON_FASHION_MNIST_DIR");
  const std::string folder = from_env && *from_env ? from_env : "/usr/share/datasets/fashion-mnist/";
  if (!std::filesystem::exists(std::filesystem::path(folder) / "train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST is not installed in " << folder;
  const auto start = std::chrono::steady_clock::now();
  const datasets::ImageData data = datasets::fashion_mnist();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("fashion_mnist() took %.3f s\n", seconds);
  EXPECT_EQ(data.x_train.shape(), (Shape{60000, 784}));
  EXPECT_EQ(data.y_train.shape(), Shape{60000});
  EXPECT_EQ(data.x_test.shape(), (Shape{10000, 784}));
  EXPECT_EQ(data.y_test.shape(), Shape{10000});
  for (const Tensor& x : {data.x_train, data.x_test}) {
    const float* p = x.data<float>();
    const auto [low, high] = std::minmax_element(p, p + x.numel());
    EXPECT_EQ(*low, 0.0f);
    EXPECT_EQ(*high, 1.0f);
  }
  for (const auto& [y, per_class] : {std::pair{data.y_train, 6000}, std::pair{data.y_test, 1000}}) {
    std::vector<int> histogram(10, 0);
    for (double label : y.to_vector()) {
      ASSERT_EQ(label, std::floor(label));
      ASSERT_GE(label, 0);
      ASSERT_LE(label, 9);
      ++histogram[static_cast<size_t>(label)];
    }
    EXPECT_EQ(histogram, std::vector<int>(10, per_class));
  }
  ASSERT_EQ(datasets::fashion_mnist_class_names().size(), 10u);
  EXPECT_EQ(datasets::fashion_mnist_class_names()[0], "T-shirt/top");
  EXPECT_EQ(datasets::fashion_mnist_class_names()[9], "Ankle boot");
}

TEST(FashionMnist, MissingFilesSayWhichPackageToInstall) {
  const std::filesystem::path folder =
      std::filesystem::path(testing::TempDir()) / ("axon_no_fashion_" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  const std::string message = error_of([&] { datasets::fashion_mnist(folder.string()); });
  EXPECT_NE(message.find((folder / "train-images-idx3-ubyte.gz").string()), std::string::npos) << message;
  EXPECT_NE(message.find("dataset-fashion-mnist"), std::string::npos) << message;
  EXPECT_NE(message.find("scripts/bootstrap data"), std::string::npos) << message;
  // "" reads the folder from AXON_FASHION_MNIST_DIR.
  const char* previous = std::getenv("AXON_FASHION_MNIST_DIR");
  const std::string saved = previous ? previous : "";
  ::setenv("AXON_FASHION_MNIST_DIR", folder.c_str(), 1);
  const std::string from_env = error_of([] { datasets::fashion_mnist(); });
  if (previous)
    ::setenv("AXON_FASHION_MNIST_DIR", saved.c_str(), 1);
  else
    ::unsetenv("AXON_FASHION_MNIST_DIR");
  EXPECT_NE(from_env.find(folder.string()), std::string::npos) << from_env;
  std::filesystem::remove_all(folder);
}

}  // namespace
}  // namespace axon
