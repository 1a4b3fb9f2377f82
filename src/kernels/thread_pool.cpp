#include "kernels/thread_pool.h"

#include <immintrin.h>

#include <chrono>
#include <cstdlib>
#include <mutex>

#include "axon/threads.h"

namespace axon::kernels {

namespace {

thread_local bool running_task = false;
std::mutex one_job;  // one job at a time; a second caller runs its chunks itself

constexpr uint64_t generation_of(uint64_t state) { return state >> 32; }
constexpr int64_t chunk_of(uint64_t state) { return static_cast<int64_t>(state & 0xffffffffu); }

// How long a thread spins for the next job (a worker) or for the last chunks (the
// caller) before it sleeps. Long enough to bridge the gap between the parallel loops
// of one training step on a quiet machine; short enough that on a busy one a waiting
// thread soon gives its core to a thread that has work.
int64_t spin_ns() {
  static const int64_t ns = [] {
    const char* env = std::getenv("AXON_SPIN_US");
    return (env ? std::atoll(env) : 50) * 1000;
  }();
  return ns;
}

// Spins until done() (true) or the spin time is over (false).
template <class Done>
bool spin_until(Done&& done) {
  const auto start = std::chrono::steady_clock::now();
  const auto budget = std::chrono::nanoseconds(spin_ns());
  for (int i = 0;; ++i) {
    if (done()) return true;
    _mm_pause();
    if ((i & 15) == 15 && std::chrono::steady_clock::now() - start > budget) return false;
  }
}

}  // namespace

ThreadPool& ThreadPool::instance() {
  // Never destroyed: workers asleep at exit need no joining.
  static ThreadPool* pool = [] {
    auto* p = new ThreadPool();
    p->resize(num_threads());
    return p;
  }();
  return *pool;
}

ThreadPool::~ThreadPool() { stop_workers(); }

bool ThreadPool::in_task() { return running_task; }

void ThreadPool::resize(int threads) {
  std::lock_guard lock(one_job);
  stop_workers();
  // Each worker waits for the generation after this one: a stop that comes before it
  // first runs is not missed.
  const uint64_t current = generation_of(state_.load());
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, current] { work(current); });
}

void ThreadPool::stop_workers() {
  stopping_.store(true);
  state_.fetch_add(uint64_t{1} << 32);  // a new generation wakes every worker
  wake(new_job_);
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
  stopping_.store(false);
}

void ThreadPool::run_erased(int64_t chunks, void* task, Invoke invoke) {
  std::unique_lock lock(one_job, std::defer_lock);
  if (chunks <= 1 || workers_.empty() || running_task || chunks > 0xffffffff || !lock.try_lock()) {
    const bool outer = running_task;
    running_task = true;
    for (int64_t c = 0; c < chunks; ++c) invoke(task, c);
    running_task = outer;
    return;
  }
  task_.store(task, std::memory_order_relaxed);
  invoke_.store(invoke, std::memory_order_relaxed);
  chunks_.store(chunks, std::memory_order_relaxed);
  remaining_.store(chunks, std::memory_order_relaxed);
  const uint64_t generation = generation_of(state_.load(std::memory_order_relaxed)) + 1;
  state_.store(generation << 32, std::memory_order_release);
  wake(new_job_);
  run_chunks(generation);
  // Chunks still running on workers: spin for them, then sleep until the last one ends.
  auto finished = [this] { return remaining_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(finished)) {
    std::unique_lock sleeping(sleep_mutex_);
    job_done_.wait(sleeping, finished);
  }
}

void ThreadPool::wake(std::condition_variable& sleepers) {
  // Taking the mutex orders this after a sleeper's last check of its condition.
  { std::lock_guard lock(sleep_mutex_); }
  sleepers.notify_all();
}

void ThreadPool::run_chunks(uint64_t generation) {
  uint64_t state = state_.load(std::memory_order_acquire);
  while (generation_of(state) == (generation & 0xffffffffu)) {
    // Read before claiming: when the claim succeeds, the job was still this one.
    const int64_t chunks = chunks_.load(std::memory_order_relaxed);
    void* task = task_.load(std::memory_order_relaxed);
    const Invoke invoke = invoke_.load(std::memory_order_relaxed);
    const int64_t chunk = chunk_of(state);
    if (chunk >= chunks) return;
    if (!state_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel)) continue;
    running_task = true;
    invoke(task, chunk);
    running_task = false;
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) wake(job_done_);
    state = state_.load(std::memory_order_acquire);
  }
}

void ThreadPool::work(uint64_t seen) {
  for (;;) {
    uint64_t state = state_.load(std::memory_order_acquire);
    auto new_job = [&] { return generation_of(state = state_.load(std::memory_order_acquire)) != seen; };
    if (!spin_until(new_job)) {
      std::unique_lock sleeping(sleep_mutex_);
      new_job_.wait(sleeping, new_job);
    }
    if (stopping_.load()) return;
    seen = generation_of(state);
    run_chunks(seen);
  }
}

}  // namespace axon::kernels
