// Data-parallel training on real MPI ranks: run by mpirun (tests/CMakeLists.txt starts
// it on 2 ranks, and on 8 oversubscribed ranks as the many-rank simulation). Every rank
// runs every test: the distributed fits are collectives, and each rank also computes
// the single-process reference itself, so it can check its own weights against it.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include <unistd.h>

#include "axon/axon.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

constexpr int64_t kGlobalBatch = 128;

Communicator& world() { return *mpi_world(); }
int ranks() { return world().size(); }
// The per-rank batch that makes the global batch kGlobalBatch on every rank count used here.
int64_t rank_batch() { return kGlobalBatch / ranks(); }

// n examples of `shape` with 3 classes, a fixed function of the seed.
struct Data {
  Tensor x, y;
};
Data data(int64_t n, const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> dims{n};
  dims.insert(dims.end(), shape.dims().begin(), shape.dims().end());
  Data d{Tensor::empty(Shape(dims)), Tensor::empty({n})};
  const int64_t width = shape.numel();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = i % 3;
    d.y.data<float>()[i] = static_cast<float>(label);
    for (int64_t j = 0; j < width; ++j)
      d.x.data<float>()[i * width + j] = static_cast<float>(gen.normal(j % 3 == label ? 1.0 : 0.0, 1.0));
  }
  return d;
}

enum class Net { mlp, cnn, cnn_synchronized_bn };

std::shared_ptr<Sequential> make(Net net) {
  manual_seed(7);  // the same initial weights in every process; the distributed fit copies rank 0's anyway
  std::shared_ptr<Sequential> model;
  if (net == Net::mlp) {
    model = std::make_shared<Sequential>(Shape{12});
    model->add(Dense(16, "relu"));
  } else {
    model = std::make_shared<Sequential>(Shape{1, 8, 8});
    model->add(Conv2D(4, 3, "relu"));
    if (net == Net::cnn_synchronized_bn) model->add(BatchNormalization(0.9, 1e-3, true));
    model->add(MaxPool2D(2));
    model->add(Flatten());
  }
  model->add(Dense(3, "softmax"));
  model->compile(SGD(0.1, 0.9), "sparse_categorical_crossentropy", {"accuracy"});
  return model;
}

Data data_for(Net net, int64_t n) { return data(n, net == Net::mlp ? Shape{12} : Shape{1, 8, 8}, 3); }

// The largest |a - b| / (1 + |b|) over every weight.
double weight_difference(const Model& a, const Model& b) {
  const std::vector<Tensor> wa = a.get_weights(), wb = b.get_weights();
  double worst = 0;
  for (size_t i = 0; i < wa.size(); ++i)
    for (int64_t k = 0; k < wa[i].numel(); ++k) {
      const double u = wa[i].data<float>()[k], v = wb[i].data<float>()[k];
      worst = std::max(worst, std::abs(u - v) / (1 + std::abs(v)));
    }
  return worst;
}

// Every rank holds the same weights, bit for bit: the largest difference to rank 0's.
double spread_over_ranks(const Model& model) {
  std::vector<float> mine, rank0;
  for (const Tensor& w : model.get_weights()) mine.insert(mine.end(), w.data<float>(), w.data<float>() + w.numel());
  rank0 = mine;
  world().broadcast(rank0.data(), rank0.size(), 0);
  double worst = 0;
  for (size_t i = 0; i < mine.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(mine[i] - rank0[i])));
  return worst;
}

// Summing a step's gradient in N parts instead of one changes only the order of float
// additions: after 3 epochs of SGD with momentum the weights differ by 5e-8 to 2e-7
// (measured on 2 and 8 ranks), and the tolerance leaves a factor 50 above that. Local
// batch statistics instead of synchronized ones move them by 4e-2; a wrong share or a
// gradient counted twice by more.
constexpr double kTolerance = 1e-5;

class SameAsOneProcess : public ::testing::TestWithParam<Net> {};

TEST_P(SameAsOneProcess, AtTheSameGlobalBatch) {
  // 600 rows: four full global batches and a last one of 88, shared unevenly by 8 ranks.
  const Data train = data_for(GetParam(), 600);
  auto reference = make(GetParam());
  const History one =
      reference->fit(train.x, train.y, {.epochs = 3, .batch_size = kGlobalBatch, .verbose = 0, .seed = 5});

  auto model = make(GetParam());
  model->distribute({.communicator = mpi_world(), .bucket_bytes = 256});  // several buckets even for these small nets
  const History many = model->fit(train.x, train.y, {.epochs = 3, .batch_size = rank_batch(), .verbose = 0, .seed = 5});

  EXPECT_LT(weight_difference(*model, *reference), kTolerance);
  EXPECT_EQ(spread_over_ranks(*model), 0.0);
  // Every rank's history holds the global figures, the one process's.
  ASSERT_EQ(many.logs.size(), one.logs.size());
  for (size_t e = 0; e < one.logs.size(); ++e) {
    EXPECT_NEAR(many.logs[e].at("loss"), one.logs[e].at("loss"), 1e-5) << "epoch " << e;
    EXPECT_EQ(many.logs[e].at("accuracy"), one.logs[e].at("accuracy")) << "epoch " << e;
  }
}

INSTANTIATE_TEST_SUITE_P(Nets, SameAsOneProcess, ::testing::Values(Net::mlp, Net::cnn, Net::cnn_synchronized_bn),
                         [](const auto& info) {
                           return info.param == Net::mlp ? "Mlp" : info.param == Net::cnn ? "Cnn" : "CnnSynchronizedBN";
                         });

TEST(DataParallel, LocalBatchNormalizationDiffersButMovingStatisticsAgree) {
  const Data train = data_for(Net::cnn, 384);
  manual_seed(7);
  auto model = std::make_shared<Sequential>(Shape{1, 8, 8});
  model->add(Conv2D(4, 3));
  model->add(BatchNormalization(0.9));  // each rank's own batch statistics
  model->add(Flatten());
  model->add(Dense(3, "softmax"));
  model->compile(SGD(0.1), "sparse_categorical_crossentropy");
  model->distribute({.communicator = mpi_world()});
  model->fit(train.x, train.y, {.epochs = 1, .batch_size = rank_batch(), .verbose = 0});
  EXPECT_EQ(spread_over_ranks(*model), 0.0);  // the moving statistics were averaged
}

TEST(DataParallel, EvaluateAndValidationCombineEveryRanksShare) {
  const Data train = data_for(Net::mlp, 600), test = data_for(Net::mlp, 301);
  auto reference = make(Net::mlp);
  const History one = reference->fit(train.x, train.y,
                                     {.epochs = 2, .batch_size = kGlobalBatch, .validation_split = 0.25, .verbose = 0});
  auto model = make(Net::mlp);
  model->distribute({.communicator = mpi_world()});
  const History many =
      model->fit(train.x, train.y, {.epochs = 2, .batch_size = rank_batch(), .validation_split = 0.25, .verbose = 0});
  EXPECT_NEAR(many.logs.back().at("val_loss"), one.logs.back().at("val_loss"), 1e-5);
  EXPECT_EQ(many.logs.back().at("val_accuracy"), one.logs.back().at("val_accuracy"));
  const Logs all = reference->evaluate(test.x, test.y), shared = model->evaluate(test.x, test.y);
  EXPECT_NEAR(shared.at("loss"), all.at("loss"), 1e-5);
  EXPECT_EQ(shared.at("accuracy"), all.at("accuracy"));
}

// A checkpoint written by N ranks resumes on M: here 2 (or 8) -> 1 and 1 -> 2 (or 8),
// each against three uninterrupted epochs in one process.
TEST(DataParallel, CheckpointsResumeOnAnotherRankCount) {
  const Data train = data_for(Net::mlp, 600);
  const auto job = static_cast<int64_t>(world().allreduce_max(world().chief() ? ::getpid() : 0));  // rank 0's pid
  const std::string folder = testing::TempDir() + "axon_resume_" + std::to_string(job);
  const std::string path = folder + "/checkpoint.safetensors";
  if (world().chief()) std::filesystem::create_directories(folder);
  auto reference = make(Net::mlp);
  reference->fit(train.x, train.y, {.epochs = 3, .batch_size = kGlobalBatch, .verbose = 0, .seed = 9});

  {  // N ranks write the checkpoint after 2 epochs; each rank then resumes alone.
    auto model = make(Net::mlp);
    model->distribute({.communicator = mpi_world()});
    model->fit(train.x, train.y,
               {.epochs = 2,
                .batch_size = rank_batch(),
                .callbacks = {std::make_shared<ModelCheckpoint>(path)},
                .verbose = 0,
                .seed = 9});
    world().barrier();
    auto alone = make(Net::mlp);
    const int done = restore_checkpoint(*alone, path);
    EXPECT_EQ(done, 2);
    alone->fit(train.x, train.y,
               {.epochs = 3, .batch_size = kGlobalBatch, .verbose = 0, .seed = 9, .initial_epoch = done});
    EXPECT_LT(weight_difference(*alone, *reference), kTolerance);
  }
  world().barrier();  // every rank has read it before rank 0 writes the next
  {                   // One process writes the checkpoint after 2 epochs; N ranks resume it.
    if (world().chief()) {
      auto alone = make(Net::mlp);
      alone->fit(train.x, train.y,
                 {.epochs = 2,
                  .batch_size = kGlobalBatch,
                  .callbacks = {std::make_shared<ModelCheckpoint>(path)},
                  .verbose = 0,
                  .seed = 9});
    }
    world().barrier();
    auto model = make(Net::mlp);
    const int done = restore_checkpoint(*model, path);
    model->distribute({.communicator = mpi_world()});
    model->fit(train.x, train.y,
               {.epochs = 3, .batch_size = rank_batch(), .verbose = 0, .seed = 9, .initial_epoch = done});
    EXPECT_LT(weight_difference(*model, *reference), kTolerance);
  }
  world().barrier();
  if (world().chief()) std::filesystem::remove_all(folder);
}

TEST(DataParallel, OneRankStoppingStopsEveryRank) {
  const Data train = data_for(Net::mlp, 600);
  auto model = make(Net::mlp);
  model->distribute({.communicator = mpi_world()});
  auto stop = std::make_shared<LambdaCallback>();
  stop->batch_end = [&](int64_t batch, const Logs&) {
    if (world().rank() == world().size() - 1 && batch == 1) model->stop_training = true;
  };
  int64_t batches = 0;
  auto count = std::make_shared<LambdaCallback>();
  count->batch_end = [&](int64_t, const Logs&) { ++batches; };
  const History history =
      model->fit(train.x, train.y, {.epochs = 3, .batch_size = rank_batch(), .callbacks = {stop, count}, .verbose = 0});
  EXPECT_EQ(batches, 2);
  EXPECT_EQ(history.logs.size(), 1u);
  EXPECT_EQ(spread_over_ranks(*model), 0.0);
}

TEST(DataParallel, RanksGivenDifferentDataFailAlikeInsteadOfHanging) {
  const Data train = data_for(Net::mlp, 600 + (world().rank() == 1 ? 1 : 0));
  auto model = make(Net::mlp);
  model->distribute({.communicator = mpi_world()});
  const std::string error =
      error_of([&] { model->fit(train.x, train.y, {.epochs = 1, .batch_size = rank_batch(), .verbose = 0}); });
  EXPECT_NE(error.find("the ranks were not given the same data and options"), std::string::npos) << error;
}

TEST(DataParallel, CollectivesSumBroadcastAndGather) {
  const int rank = world().rank(), size = world().size();
  std::vector<float> values{static_cast<float>(rank), 1.0f};
  world().allreduce_sum(values.data(), values.size());
  EXPECT_EQ(values[0], static_cast<float>(size * (size - 1) / 2));
  EXPECT_EQ(values[1], static_cast<float>(size));
  EXPECT_EQ(world().allreduce_max(rank), size - 1);
  std::vector<float> root{rank == 0 ? 42.0f : 0.0f};
  world().broadcast(root.data(), 1, 0);
  EXPECT_EQ(root[0], 42.0f);
  const auto gathered = world().allgather(std::vector<double>(static_cast<size_t>(rank), rank));
  ASSERT_EQ(gathered.size(), static_cast<size_t>(size));
  for (int r = 0; r < size; ++r) EXPECT_EQ(gathered[r], std::vector<double>(static_cast<size_t>(r), r));
}

}  // namespace
}  // namespace axon

// Rank 0 prints gtest's report; the others print only their failures. Every rank's
// result counts: mpirun exits non-zero when any rank does.
int main(int argc, char** argv) {
  if (!axon::mpi_world()->chief()) GTEST_FLAG_SET(brief, true);  // before InitGoogleTest picks the printer
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
