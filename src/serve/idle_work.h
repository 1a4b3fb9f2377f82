#pragma once
// Work an I/O thread leaves until nothing else is ready for it: a batcher's pass then
// takes every request the thread has read meanwhile, as a separate batching thread
// would, without handing the requests to that thread and being woken back (two thread
// switches per batch). The I/O loops (HTTP's and gRPC's) call run_idle_work() each time
// they find nothing ready, before they block, and run_overdue_idle_work() with each
// request they read, so that a flood of other requests delays the work by kMaxDelay at
// most.
#include <chrono>
#include <functional>

namespace axon::serve {

constexpr std::chrono::microseconds kMaxDelay{1000};

// Queues `work` on this thread, for its next idle moment.
void later_on_this_thread(std::function<void()> work);
// Runs (in order) what this thread queued, including what that queues; false if none.
bool run_idle_work();
// run_idle_work() if the oldest work has waited longer than kMaxDelay.
void run_overdue_idle_work();

}  // namespace axon::serve
