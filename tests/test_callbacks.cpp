// Callbacks and learning-rate schedules, driven by real fit() runs on tiny data.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "axon/axon.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

struct Data {
  Tensor x = Tensor::from(std::vector<float>{0, 0, 0, 1, 1, 0, 1, 1, 0.5f, 0.5f, 0.2f, 0.9f}, {6, 2});
  Tensor y = Tensor::from(std::vector<float>{0, 1, 1, 0, 1, 0}, {6, 1});
};

std::unique_ptr<Sequential> tiny_model(double learning_rate) {
  manual_seed(3);
  auto model = std::make_unique<Sequential>(Shape{2});
  model->add(Dense(4, "tanh"));
  model->add(Dense(1, "sigmoid"));
  model->compile(SGD(learning_rate), "binary_crossentropy", {"accuracy"});
  return model;
}

TEST(Callbacks, LambdaSeesEveryHookInOrder) {
  Data d;
  auto model = tiny_model(0.1);
  auto recorder = std::make_shared<LambdaCallback>();
  std::string trace;
  recorder->train_begin = [&](const Logs&) { trace += "T"; };
  recorder->epoch_begin = [&](int e, const Logs&) { trace += "E" + std::to_string(e); };
  recorder->batch_end = [&](int64_t b, const Logs& logs) {
    trace += "b" + std::to_string(b) + (logs.contains("loss") ? "" : "!");
  };
  recorder->epoch_end = [&](int e, const Logs& logs) {
    trace += "e" + std::to_string(e) + (logs.contains("accuracy") ? "" : "!");
  };
  recorder->train_end = [&](const Logs&) { trace += "t"; };
  model->fit(d.x, d.y, {.epochs = 2, .batch_size = 4, .callbacks = {recorder}, .verbose = 0});
  EXPECT_EQ(trace, "TE0b0b1e0E1b0b1e1t");
}

TEST(Callbacks, EarlyStoppingStopsWhenTheMonitorStalls) {
  Data d;
  auto model = tiny_model(0.0);  // nothing improves after the first epoch
  auto stopper = std::make_shared<EarlyStopping>(EarlyStopping::Options{.monitor = "loss", .patience = 2});
  const History h = model->fit(d.x, d.y, {.epochs = 20, .batch_size = 6, .callbacks = {stopper}, .verbose = 0});
  EXPECT_EQ(h.logs.size(), 3u);  // epoch 0 sets the best, epochs 1 and 2 exhaust patience 2
  EXPECT_EQ(stopper->stopped_epoch(), 2);
  EXPECT_EQ(stopper->best_epoch(), 0);
}

TEST(Callbacks, EarlyStoppingRestoresTheBestWeights) {
  Data d;
  auto model = tiny_model(50.0);  // a huge rate: the loss jumps around
  std::vector<std::vector<Tensor>> weights_after;
  auto recorder = std::make_shared<LambdaCallback>();
  recorder->epoch_end = [&](int, const Logs&) { weights_after.push_back(model->get_weights()); };
  auto stopper = std::make_shared<EarlyStopping>(
      EarlyStopping::Options{.monitor = "loss", .patience = 1, .restore_best_weights = true});
  const History h =
      model->fit(d.x, d.y, {.epochs = 30, .batch_size = 6, .callbacks = {recorder, stopper}, .verbose = 0});
  ASSERT_GE(stopper->stopped_epoch(), 1);
  const std::vector<Tensor> best = weights_after[static_cast<size_t>(stopper->best_epoch())];
  const std::vector<Tensor> now = model->get_weights();
  for (size_t i = 0; i < now.size(); ++i) EXPECT_TRUE(now[i].allclose(best[i], 0, 0));
  EXPECT_THROW(EarlyStopping(EarlyStopping::Options{.patience = -1}), Error);
  // With progress output on, it says when it stopped and that it restored the weights, as Keras.
  auto again = tiny_model(50.0);
  auto loud = std::make_shared<EarlyStopping>(
      EarlyStopping::Options{.monitor = "loss", .patience = 1, .restore_best_weights = true});
  testing::internal::CaptureStdout();
  again->fit(d.x, d.y, {.epochs = 30, .batch_size = 6, .callbacks = {loud}, .verbose = 2});
  const std::string said = testing::internal::GetCapturedStdout();
  EXPECT_NE(said.find("Epoch " + std::to_string(loud->stopped_epoch() + 1) + ": early stopping; best loss "),
            std::string::npos)
      << said;
  EXPECT_NE(said.find("at epoch " + std::to_string(loud->best_epoch() + 1) + ", its weights restored"),
            std::string::npos)
      << said;
}

TEST(Callbacks, EarlyStoppingNamesAMissingMonitor) {
  Data d;
  auto model = tiny_model(0.1);
  auto stopper = std::make_shared<EarlyStopping>();  // val_loss, but no validation data
  EXPECT_NE(error_of([&] {
              model->fit(d.x, d.y, {.epochs = 2, .callbacks = {stopper}, .verbose = 0});
            }).find("'val_loss' is not in the logs"),
            std::string::npos);
}

TEST(Callbacks, ReduceLROnPlateauCutsTheRate) {
  Data d;
  auto model = tiny_model(1e-12);  // effectively frozen: never improves by min_delta
  std::vector<double> rates;
  auto recorder = std::make_shared<LambdaCallback>();
  recorder->epoch_end = [&](int, const Logs&) { rates.push_back(model->optimizer().learning_rate()); };
  auto reducer =
      std::make_shared<ReduceLROnPlateau>(ReduceLROnPlateau::Options{.monitor = "loss", .factor = 0.5, .patience = 2});
  model->fit(d.x, d.y, {.epochs = 7, .batch_size = 6, .callbacks = {reducer, recorder}, .verbose = 0});
  // Epoch 0 sets the best; the rate halves after every 2 epochs without improvement.
  EXPECT_EQ(rates, (std::vector<double>{1e-12, 1e-12, 5e-13, 5e-13, 2.5e-13, 2.5e-13, 1.25e-13}));
  EXPECT_THROW(ReduceLROnPlateau(ReduceLROnPlateau::Options{.factor = 1.5}), Error);
}

TEST(Callbacks, LearningRateSchedulerFollowsTheSchedule) {
  Data d;
  auto model = tiny_model(0.1);
  std::vector<double> rates;
  auto recorder = std::make_shared<LambdaCallback>();
  recorder->epoch_end = [&](int, const Logs&) { rates.push_back(model->optimizer().learning_rate()); };
  auto scheduler = std::make_shared<LearningRateScheduler>(step_decay(0.1, 0.5, 2));
  model->fit(d.x, d.y, {.epochs = 5, .callbacks = {scheduler, recorder}, .verbose = 0});
  EXPECT_EQ(rates, (std::vector<double>{0.1, 0.1, 0.05, 0.05, 0.025}));
}

TEST(Schedules, GoldenValues) {
  EXPECT_DOUBLE_EQ(exponential_decay(1.0, 0.5, 2)(4), 0.25);
  EXPECT_DOUBLE_EQ(cosine_decay(1.0, 10)(0), 1.0);
  EXPECT_NEAR(cosine_decay(1.0, 10)(5), 0.5, 1e-12);
  EXPECT_NEAR(cosine_decay(1.0, 10, 0.1)(10), 0.1, 1e-12);
  EXPECT_NEAR(cosine_decay(1.0, 10, 0.1)(25), 0.1, 1e-12);
  const Schedule warm = warmup(3, [](int) { return 0.8; });
  EXPECT_DOUBLE_EQ(warm(0), 0.2);
  EXPECT_DOUBLE_EQ(warm(2), 0.6);
  EXPECT_DOUBLE_EQ(warm(3), 0.8);
  EXPECT_THROW(step_decay(0.1, 0.5, 0), Error);
  EXPECT_THROW(cosine_decay(NAN, 10), Error);
}

TEST(Callbacks, CSVLoggerWritesAHeaderAndOneRowPerEpoch) {
  Data d;
  const std::string path = ::testing::TempDir() + "axon_csv_logger.csv";
  auto model = tiny_model(0.1);
  auto logger = std::make_shared<CSVLogger>(path);
  const History h = model->fit(d.x, d.y, {.epochs = 3, .callbacks = {logger}, .verbose = 0});
  std::ifstream in(path);
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header, "epoch,loss,accuracy");
  for (int epoch = 0; epoch < 3; ++epoch) {
    ASSERT_TRUE(std::getline(in, line));
    std::istringstream row(line);
    std::string epoch_text, loss_text;
    std::getline(row, epoch_text, ',');
    std::getline(row, loss_text, ',');
    EXPECT_EQ(std::stoi(epoch_text), epoch);
    EXPECT_NEAR(std::stod(loss_text), h.at("loss")[static_cast<size_t>(epoch)], 1e-6);
  }
  EXPECT_FALSE(std::getline(in, line));
  // Appending keeps the header single.
  auto appender = std::make_shared<CSVLogger>(path, true);
  model->fit(d.x, d.y, {.epochs = 1, .callbacks = {appender}, .verbose = 0});
  std::ifstream again(path);
  int lines = 0, headers = 0;
  while (std::getline(again, line)) {
    ++lines;
    headers += line.rfind("epoch", 0) == 0;
  }
  EXPECT_EQ(lines, 5);
  EXPECT_EQ(headers, 1);
  auto unwritable = std::make_shared<CSVLogger>("/nonexistent-dir/log.csv");
  EXPECT_THROW(model->fit(d.x, d.y, {.epochs = 1, .callbacks = {unwritable}, .verbose = 0}), Error);
}

TEST(Callbacks, TerminateOnNaNStopsAtTheFirstBadBatch) {
  Data d;
  d.x.data<float>()[0] = NAN;
  auto model = tiny_model(0.1);
  int batches = 0;
  auto counter = std::make_shared<LambdaCallback>();
  counter->batch_end = [&](int64_t, const Logs&) { ++batches; };
  const History h = model->fit(d.x, d.y,
                               {.epochs = 5,
                                .batch_size = 2,
                                .shuffle = false,
                                .callbacks = {std::make_shared<TerminateOnNaN>(), counter},
                                .verbose = 0});
  EXPECT_EQ(batches, 1);
  ASSERT_EQ(h.logs.size(), 1u);
  EXPECT_TRUE(std::isnan(h.at("loss")[0]));
}

TEST(Callbacks, ProgressBarPrintsOneLinePerEpochWhenNotATerminal) {
  Data d;
  auto model = tiny_model(0.1);
  std::FILE* out = std::tmpfile();
  auto bar = std::make_shared<ProgressBar>(out);
  model->fit(d.x, d.y, {.epochs = 2, .batch_size = 4, .callbacks = {bar}, .verbose = 0});
  std::rewind(out);
  char buffer[4096] = {};
  const size_t size = std::fread(buffer, 1, sizeof buffer - 1, out);
  std::fclose(out);
  const std::string text(buffer, size);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_NE(text.find("Epoch 1/2 - 2 steps - "), std::string::npos) << text;
  EXPECT_NE(text.find("Epoch 2/2"), std::string::npos) << text;
  EXPECT_NE(text.find(" - loss: "), std::string::npos) << text;
  EXPECT_NE(text.find(" - accuracy: "), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos);  // no live redraws into a file
}

// Issue 18: off a terminal an epoch was silent until it ended. Now a line comes every
// line_seconds (here every batch) with steps, samples and throughput.
TEST(Callbacks, ProgressBarPrintsProgressLinesWhenNotATerminal) {
  Data d;
  auto model = tiny_model(0.1);
  std::FILE* out = std::tmpfile();
  auto bar = std::make_shared<ProgressBar>(out, 0.0);
  model->fit(d.x, d.y, {.epochs = 1, .batch_size = 2, .callbacks = {bar}, .verbose = 1});
  std::rewind(out);
  char buffer[4096] = {};
  const std::string text(buffer, std::fread(buffer, 1, sizeof buffer - 1, out));
  std::fclose(out);
  EXPECT_NE(text.find("Epoch 1/1 - 1/3 steps - 2 samples - "), std::string::npos) << text;
  EXPECT_NE(text.find("Epoch 1/1 - 2/3 steps - 4 samples - "), std::string::npos) << text;
  EXPECT_NE(text.find(" samples/s - loss: "), std::string::npos) << text;
  EXPECT_NE(text.find("Epoch 1/1 - 3 steps - "), std::string::npos) << text;  // the epoch's own line
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
}

}  // namespace
}  // namespace axon
