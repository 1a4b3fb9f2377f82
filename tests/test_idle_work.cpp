// An I/O thread's idle work: run in order when the thread asks, including work queued by
// work; run early only once the oldest has waited longer than kMaxDelay.
#include "serve/idle_work.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace {

using namespace axon::serve;

TEST(IdleWork, RunsInOrderWithWhatItQueuesOnlyOnThisThread) {
  std::vector<int> ran;
  later_on_this_thread([&] {
    ran.push_back(1);
    later_on_this_thread([&] { ran.push_back(3); });
  });
  later_on_this_thread([&] { ran.push_back(2); });
  std::thread([] { EXPECT_FALSE(run_idle_work()) << "another thread has its own"; }).join();
  EXPECT_TRUE(ran.empty());
  EXPECT_TRUE(run_idle_work());
  EXPECT_EQ(ran, std::vector<int>({1, 2, 3}));
  EXPECT_FALSE(run_idle_work());
}

TEST(IdleWork, OverdueWorkRunsEarly) {
  int ran = 0;
  later_on_this_thread([&] { ++ran; });
  run_overdue_idle_work();
  EXPECT_EQ(ran, 0) << "just queued";
  std::this_thread::sleep_for(kMaxDelay * 2);
  run_overdue_idle_work();
  EXPECT_EQ(ran, 1);
  EXPECT_FALSE(run_idle_work());
}

}  // namespace
