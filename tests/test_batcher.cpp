// The server's dynamic batcher: requests that queue while the model runs share one
// pass, each getting its own rows back; a quick, idle model runs the pass on the
// submitting thread (no hand-over), at once or once that thread is idle, with what it
// read meanwhile; a slow one, or one told to wait for company, never does.
#include "serve/batcher.h"
#include "serve/idle_work.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "axon/axon.h"

namespace {

using namespace axon;
using serve::Batcher;

std::shared_ptr<Model> dense_model(int64_t features) {
  auto model = std::make_shared<Sequential>(Shape{features});
  model->add(Dense(features));
  return model;
}

// Sanitizer builds make any pass slow: the tests of where a quick pass runs say what
// quick is. (The slow model's test keeps the default.)
constexpr std::chrono::microseconds kAnyPassIsQuick = std::chrono::seconds(60);

struct Answer {
  std::thread::id thread;
  std::vector<Tensor> outputs;
};

// Submits one row and waits for its answer; `inline_pass` says whether it came on this
// thread (so inside submit()).
Answer submit_and_wait(Batcher& batcher, const Tensor& row, bool& inline_pass) {
  std::promise<Answer> promise;
  std::future<Answer> answer = promise.get_future();
  EXPECT_TRUE(batcher.submit({row}, [&](std::vector<Tensor> outputs, std::exception_ptr error) {
    EXPECT_FALSE(error);
    promise.set_value({std::this_thread::get_id(), std::move(outputs)});
  }));
  Answer got = answer.get();
  inline_pass = got.thread == std::this_thread::get_id();
  return got;
}

// Submits a row at a time until a pass is left for later (the batcher idle and its last
// pass quick), and runs it: the batcher is idle, its passes quick, after.
void settle(Batcher& batcher, const Tensor& row) {
  for (int i = 0; i < 1000; ++i) {
    std::promise<void> answered;
    std::future<void> answer = answered.get_future();
    ASSERT_TRUE(batcher.submit(
        {row}, [&answered](std::vector<Tensor>, std::exception_ptr) { answered.set_value(); },
        serve::later_on_this_thread));
    const bool promised = serve::run_idle_work();
    answer.get();
    if (promised) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the worker answered: let it finish
  }
  FAIL() << "no pass was ever left for later";
}

TEST(Batcher, AQuickIdleModelRunsOnTheSubmittingThreadAndAnswersTheSame) {
  std::shared_ptr<Model> model = dense_model(4);
  Batcher batcher(model, 64, std::chrono::microseconds(0), 1024, nullptr, kAnyPassIsQuick);
  const Tensor row = Generator(1).uniform({1, 4}, -1, 1);
  const Tensor expected = model->predict(row);
  bool inline_pass = true;
  submit_and_wait(batcher, row, inline_pass);
  EXPECT_FALSE(inline_pass) << "the first pass's cost is unknown: the worker runs it";
  // The worker answers before it marks itself done: the next request may still find it
  // running and queue for it. Once a pass has run here, the batcher is idle after each.
  for (int i = 0; i < 100 && !inline_pass; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    submit_and_wait(batcher, row, inline_pass);
  }
  ASSERT_TRUE(inline_pass);
  int inline_passes = 0;
  for (int i = 0; i < 20; ++i) {
    const Answer got = submit_and_wait(batcher, row, inline_pass);
    inline_passes += inline_pass;
    ASSERT_EQ(got.outputs.size(), 1u);
    for (int64_t k = 0; k < 4; ++k) EXPECT_EQ(got.outputs[0].data<float>()[k], expected.data<float>()[k]);
  }
  EXPECT_EQ(inline_passes, 20);
}

TEST(Batcher, ASlowModelOrABatchTimeoutAlwaysHandsOverToTheWorker) {
  // 4096x4096 weights (64 MiB): a pass of one row reads them all, milliseconds.
  Batcher slow(dense_model(4096), 64, std::chrono::microseconds(0), 1024, nullptr);
  const Tensor wide = Generator(2).uniform({1, 4096}, -1, 1);
  bool inline_pass = false;
  for (int i = 0; i < 3; ++i) {
    submit_and_wait(slow, wide, inline_pass);
    EXPECT_FALSE(inline_pass);
  }
  Batcher waiting(dense_model(4), 64, std::chrono::microseconds(50), 1024, nullptr, kAnyPassIsQuick);
  const Tensor row = Generator(3).uniform({1, 4}, -1, 1);
  for (int i = 0; i < 5; ++i) {
    submit_and_wait(waiting, row, inline_pass);
    EXPECT_FALSE(inline_pass);
  }
}

TEST(Batcher, RequestsQueuedWhileTheModelRunsShareAPassAndGetTheirOwnRows) {
  std::shared_ptr<Model> model = dense_model(4096);
  std::atomic<int> passes{0}, rows_run{0};
  Batcher batcher(model, 64, std::chrono::microseconds(0), 1024, [&](int64_t rows) {
    ++passes;
    rows_run += static_cast<int>(rows);
  });
  const Tensor rows = Generator(4).uniform({4, 4096}, -1, 1);
  const Tensor expected = model->predict(rows);
  std::vector<std::promise<Tensor>> answers(4);
  for (int64_t r = 0; r < 4; ++r)  // the first pass takes milliseconds; the rest queue behind it
    ASSERT_TRUE(batcher.submit({rows.rows(r, r + 1).clone()}, [&answers, r](std::vector<Tensor> out, std::exception_ptr) {
      answers[static_cast<size_t>(r)].set_value(out.at(0));
    }));
  for (int64_t r = 0; r < 4; ++r) {
    const Tensor got = answers[static_cast<size_t>(r)].get_future().get();
    ASSERT_EQ(got.shape(), Shape({1, 4096}));
    for (int64_t k = 0; k < 4096; k += 511)
      EXPECT_NEAR(got.data<float>()[k], expected.data<float>()[r * 4096 + k], 1e-4) << "row " << r;
  }
  EXPECT_EQ(rows_run, 4);
  EXPECT_LT(passes, 4);
}

TEST(Batcher, APassLeftForLaterTakesWhatTheThreadReadMeanwhile) {
  std::shared_ptr<Model> model = dense_model(4);
  std::vector<int64_t> passes;
  auto batcher = std::make_shared<Batcher>(model, 64, std::chrono::microseconds(0), 1024,
                                           [&passes](int64_t rows) { passes.push_back(rows); }, kAnyPassIsQuick);
  const Tensor rows = Generator(5).uniform({3, 4}, -1, 1);
  const Tensor expected = model->predict(rows);
  ASSERT_NO_FATAL_FAILURE(settle(*batcher, rows.rows(0, 1).clone()));
  passes.clear();

  std::vector<Tensor> answers(3);
  std::vector<std::thread::id> threads(3);
  for (int64_t r = 0; r < 3; ++r)
    ASSERT_TRUE(batcher->submit(
        {rows.rows(r, r + 1).clone()},
        [&, r](std::vector<Tensor> out, std::exception_ptr) {
          answers[static_cast<size_t>(r)] = out.at(0);
          threads[static_cast<size_t>(r)] = std::this_thread::get_id();
        },
        serve::later_on_this_thread));
  EXPECT_TRUE(passes.empty()) << "the pass waits for this thread to be idle";
  EXPECT_TRUE(serve::run_idle_work());
  EXPECT_FALSE(serve::run_idle_work());
  ASSERT_EQ(passes, std::vector<int64_t>({3})) << "one pass, for all three";
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(threads[r], std::this_thread::get_id());
    for (int64_t k = 0; k < 4; ++k)
      EXPECT_NEAR(answers[r].data<float>()[k], expected.data<float>()[static_cast<int64_t>(r) * 4 + k], 1e-6);
  }
}

TEST(Batcher, AFullBatchRunsAtOnceEvenWithAPassLeftForLater) {
  std::vector<int64_t> passes;
  auto batcher = std::make_shared<Batcher>(dense_model(4), 4, std::chrono::microseconds(0), 1024,
                                           [&passes](int64_t rows) { passes.push_back(rows); }, kAnyPassIsQuick);
  const Tensor row = Generator(7).uniform({1, 4}, -1, 1);
  ASSERT_NO_FATAL_FAILURE(settle(*batcher, row));
  passes.clear();
  std::vector<std::function<void()>> waiting;  // a thread that never runs out of events
  const Batcher::Later later = [&waiting](std::function<void()> pass) { waiting.push_back(std::move(pass)); };
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(batcher->submit({row}, [](std::vector<Tensor>, std::exception_ptr) {}, later));
  EXPECT_TRUE(passes.empty());
  ASSERT_TRUE(batcher->submit({row}, [](std::vector<Tensor>, std::exception_ptr) {}, later));
  EXPECT_EQ(passes, std::vector<int64_t>({4})) << "max_batch rows queued: the pass ran in submit()";
  ASSERT_EQ(waiting.size(), 1u);
  waiting.front()();
  EXPECT_EQ(passes, std::vector<int64_t>({4})) << "the pass left for later finds nothing left";
}

TEST(Batcher, APassNeverRunIsAnsweredByTheWorkerAsTheBatcherStops) {
  auto batcher =
      std::make_shared<Batcher>(dense_model(4), 64, std::chrono::microseconds(0), 1024, nullptr, kAnyPassIsQuick);
  const Tensor row = Generator(6).uniform({1, 4}, -1, 1);
  ASSERT_NO_FATAL_FAILURE(settle(*batcher, row));
  std::vector<std::function<void()>> waiting;  // an I/O loop that stops before it runs them
  std::atomic<int> answered{0};
  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(batcher->submit(
        {row}, [&answered](std::vector<Tensor> out, std::exception_ptr error) { answered += !error && out.size() == 1; },
        [&waiting](std::function<void()> pass) { waiting.push_back(std::move(pass)); }));
  ASSERT_EQ(waiting.size(), 1u);
  batcher.reset();  // the pass left for later holds it
  EXPECT_EQ(answered, 0);
  waiting.clear();  // the batcher ends here, its worker answering both
  EXPECT_EQ(answered, 2);
}

}  // namespace
