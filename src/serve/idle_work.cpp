#include "idle_work.h"

#include <vector>

namespace axon::serve {

namespace {
using Clock = std::chrono::steady_clock;
thread_local std::vector<std::function<void()>> idle_work;
thread_local Clock::time_point oldest;  // when the first of idle_work was queued
}  // namespace

void later_on_this_thread(std::function<void()> work) {
  if (idle_work.empty()) oldest = Clock::now();
  idle_work.push_back(std::move(work));
}

bool run_idle_work() {
  if (idle_work.empty()) return false;
  while (!idle_work.empty()) {
    std::vector<std::function<void()>> now;
    now.swap(idle_work);
    for (std::function<void()>& work : now) work();
  }
  return true;
}

void run_overdue_idle_work() {
  if (!idle_work.empty() && Clock::now() - oldest > kMaxDelay) run_idle_work();
}

}  // namespace axon::serve
