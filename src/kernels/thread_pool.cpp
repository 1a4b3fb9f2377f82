#include "kernels/thread_pool.h"

#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "axon/threads.h"

namespace axon::kernels {

namespace {

thread_local bool running_task = false;
std::mutex one_job;  // one job at a time; a second caller runs its chunks itself

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

// Spins until done() (true) or `budget` is over (false); by default the spin time above.
template <class Done>
bool spin_until(Done&& done, std::chrono::nanoseconds budget = std::chrono::nanoseconds(spin_ns())) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0;; ++i) {
    if (done()) return true;
    _mm_pause();
    if ((i & 15) == 15 && std::chrono::steady_clock::now() - start > budget) return false;
  }
}

// The CPUs the process may use (as the thread that built or last resized the pool had
// them), and a worker's move off the CPU of its job's caller. On a machine shared with a
// busy process, Linux's wake-up placement tends to put a woken worker on the CPU of the
// caller that woke it: two of our threads then share one CPU while the busy process has
// the other to itself, and the load balancer sees two tasks against one either way and
// moves nothing (measured: the Fashion CNN's two threads shared a CPU about 70 % of the
// time). So a worker that joins a job on the caller's CPU moves itself off it, by
// narrowing its affinity to the other CPUs, which migrates it at once, and then widening
// it again, which leaves it where it is but lets the scheduler move it onto an idle CPU
// later (the caller's, when the caller sleeps waiting for it). On a quiet machine this
// seldom happens.
cpu_set_t allowed_cpus;  // empty when unknown: no worker then moves

void remember_allowed_cpus() {
  if (sched_getaffinity(0, sizeof allowed_cpus, &allowed_cpus) != 0) CPU_ZERO(&allowed_cpus);
}

void keep_off_callers_cpu(int caller) {
  if (caller < 0 || sched_getcpu() != caller || !CPU_ISSET(caller, &allowed_cpus) || CPU_COUNT(&allowed_cpus) < 2)
    return;
  cpu_set_t others = allowed_cpus;
  CPU_CLR(caller, &others);
  if (sched_setaffinity(0, sizeof others, &others) == 0)  // best effort: on failure the worker stays
    sched_setaffinity(0, sizeof allowed_cpus, &allowed_cpus);
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

bool ThreadPool::in_task() { return running_task; }

void ThreadPool::resize(int threads) {
  std::lock_guard lock(one_job);
  stop_workers();
  remember_allowed_cpus();
  // Each worker waits for the generation after this one: a stop that comes before it
  // first runs is not missed.
  const uint64_t current = job_.generation.load();
  ranges_ = std::make_unique<Range[]>(static_cast<size_t>(std::max(threads, 1)));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i, current] { work(i, current); });
}

// Under one_job, so no job is open.
void ThreadPool::stop_workers() {
  stopping_.store(true);
  job_.generation.fetch_add(2);  // a change every worker sees, even still
  {
    std::lock_guard sleeping(sleep_mutex_);
    new_job_.notify_all();
  }
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
  stopping_.store(false);
}

void ThreadPool::run_erased(int64_t chunks, void* task, Invoke invoke) {
  std::unique_lock lock(one_job, std::defer_lock);
  if (chunks <= 1 || workers_.empty() || running_task || !lock.try_lock()) {
    const bool outer = running_task;
    running_task = true;
    for (int64_t c = 0; c < chunks; ++c) invoke(task, c);
    running_task = outer;
    return;
  }
  job_.task = task;
  job_.invoke = invoke;
  job_.caller_cpu.store(sched_getcpu(), std::memory_order_relaxed);
  const int64_t n = threads();
  for (int64_t i = 0; i < n; ++i) {
    ranges_[i].next.store(chunks * i / n, std::memory_order_relaxed);
    ranges_[i].end = chunks * (i + 1) / n;
  }
  const uint64_t open = job_.generation.load(std::memory_order_relaxed) + 1;  // only callers under one_job write it
  job_.generation.store(open);
  if (sleepers_.load() > 0) {
    std::lock_guard sleeping(sleep_mutex_);
    new_job_.notify_all();
  }
  run_chunks(0);
  // Every chunk is claimed now; those still running belong to workers in the job.
  // Close it, then wait for them to leave: no worker may still hold this job's task
  // when the caller returns.
  job_.generation.store(open + 1);
  auto left = [this] { return active_.load() == 0; };
  if (spin_until(left)) return;
  const std::vector<pid_t> pulled = pull_descheduled_workers();
  {
    std::unique_lock sleeping(sleep_mutex_);
    caller_waiting_.store(true);
    job_done_.wait(sleeping, left);
    caller_waiting_.store(false);
  }
  for (pid_t worker : pulled) sched_setaffinity(worker, sizeof allowed_cpus, &allowed_cpus);  // out of the job
}

// Called by a caller that has spun for its workers in vain and is about to sleep. A
// worker still in the job that gets no CPU time for 20 us has been descheduled while it
// holds a chunk (beside a busy process), and would wait in that CPU's queue for the busy
// process's time slice; Linux's balancer does not move a task that ran so recently onto
// the CPU the caller leaves idle. So the caller pins it to its own CPU, which moves it
// there at once, and gives it all the process's CPUs again once the job is over. A
// worker that is running is left alone (a first version that moved it too made a quiet
// CNN epoch 5-10 % slower). Measured beside a busy loop, a CNN epoch (12,000 images, 2
// threads) took 2.69-2.82 s against 2.78-2.95 with the pool before this and the
// lock-free job (4 alternating pairs, each faster); quiet, 1.61-1.82 against 1.69-1.84.
std::vector<pid_t> ThreadPool::pull_descheduled_workers() {
  std::vector<pid_t> pulled;
  if (CPU_COUNT(&allowed_cpus) < 2) return pulled;  // nowhere to move, or no set to give back
  auto cpu_ns = [](clockid_t clock) {
    timespec t{};
    clock_gettime(clock, &t);
    return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec;
  };
  const int n = threads();
  std::vector<int64_t> before(static_cast<size_t>(n), -1);  // CPU ns of the workers in the job
  for (int i = 1; i < n; ++i)
    if (ranges_[i].in_job.load() && ranges_[i].tid.load() != 0) before[i] = cpu_ns(ranges_[i].cpu_clock.load());
  if (spin_until([this] { return active_.load() == 0; }, std::chrono::microseconds(20))) return pulled;
  cpu_set_t here;
  CPU_ZERO(&here);
  CPU_SET(sched_getcpu(), &here);
  for (int i = 1; i < n; ++i)
    if (before[i] >= 0 && ranges_[i].in_job.load() && cpu_ns(ranges_[i].cpu_clock.load()) - before[i] < 5000 &&
        sched_setaffinity(ranges_[i].tid.load(), sizeof here, &here) == 0)
      pulled.push_back(ranges_[i].tid.load());
  return pulled;
}

void ThreadPool::run_chunks(int index) {
  const int n = threads();
  for (int k = 0; k < n; ++k) {
    Range& range = ranges_[(index + k) % n];
    for (int64_t chunk; (chunk = range.next.fetch_add(1, std::memory_order_relaxed)) < range.end;) {
      const bool outer = running_task;
      running_task = true;
      job_.invoke(job_.task, chunk);
      running_task = outer;
    }
  }
}

void ThreadPool::leave_job() {
  if (active_.fetch_sub(1) == 1 && caller_waiting_.load()) {
    std::lock_guard sleeping(sleep_mutex_);
    job_done_.notify_all();
  }
}

void ThreadPool::work(int index, uint64_t seen) {
  clockid_t cpu_clock;
  if (pthread_getcpuclockid(pthread_self(), &cpu_clock) == 0) {
    ranges_[index].cpu_clock.store(cpu_clock);
    ranges_[index].tid.store(static_cast<int>(gettid()));  // set last: no tid, no pull
  }
  for (;;) {
    uint64_t now = seen;
    auto new_job = [&] { return (now = job_.generation.load()) != seen; };
    if (!spin_until(new_job)) {
      std::unique_lock sleeping(sleep_mutex_);
      sleepers_.fetch_add(1);
      new_job_.wait(sleeping, new_job);
      sleepers_.fetch_sub(1);
    }
    if (stopping_.load()) return;
    seen = now;
    if (now % 2 == 0) continue;  // the close of a job it did not join
    active_.fetch_add(1);
    if (job_.generation.load() == now) {  // still open: its caller waits for this worker
      keep_off_callers_cpu(job_.caller_cpu.load(std::memory_order_relaxed));
      ranges_[index].in_job.store(true);
      run_chunks(index);
      ranges_[index].in_job.store(false);
    }
    leave_job();
  }
}

}  // namespace axon::kernels
