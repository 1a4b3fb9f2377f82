#pragma once
// The one pool of threads every parallel kernel runs on (GEMM included), built to stay
// fast when other processes share the cores.
//
// A job is cut into chunks that threads claim one at a time, the calling thread among
// them: a thread the OS has descheduled leaves its unclaimed chunks to the others
// instead of stalling the job (OpenMP's static schedule waited for it). Idle workers
// spin briefly for the next job, then sleep, so they do not take the core from the
// thread that holds the rest of the work. A worker that finds itself on the caller's
// CPU moves off it, and one descheduled while the caller waits for it is pulled onto
// the caller's CPU (thread_pool.cpp says why).
#include <sys/types.h>
#include <time.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace axon::kernels {

class ThreadPool {
 public:
  // The pool of num_threads() - 1 workers (the caller is the last thread).
  static ThreadPool& instance();

  // Runs task(chunk) once for every chunk in [0, chunks), on the caller and the
  // workers, and returns when all have run. Inside a task, or with no workers, it runs
  // them all on the calling thread. Tasks must not throw.
  template <class Task>
  void run(int64_t chunks, Task&& task) {
    run_erased(chunks, &task, [](void* t, int64_t chunk) { (*static_cast<Task*>(t))(chunk); });
  }

  // Resizes to `threads` threads in all (the caller included); not while a job runs.
  void resize(int threads);
  int threads() const { return static_cast<int>(workers_.size()) + 1; }
  // True on a thread that is running a chunk.
  static bool in_task();

 private:
  using Invoke = void (*)(void*, int64_t);
  ThreadPool() = default;
  void run_erased(int64_t chunks, void* task, Invoke invoke);
  // Worker `index`'s loop (1 .. threads() - 1); `seen` is the generation of the last
  // job it saw.
  void work(int index, uint64_t seen);
  // Claims and runs chunks of the current job until none is left: those of thread
  // `index`'s home range first, then the others'.
  void run_chunks(int index);
  void stop_workers();

  // Thread i's home range of the current job's chunks: it claims the next one from
  // `next` while that is below `end`; other threads claim from it once theirs is empty.
  // For a worker's range, also the worker itself, for a caller that waits for it
  // (pull_descheduled_workers).
  struct alignas(64) Range {
    std::atomic<int64_t> next{0};
    int64_t end = 0;
    std::atomic<int> tid{0};              // the worker's thread id, once it runs
    std::atomic<clockid_t> cpu_clock{0};  // its CPU-time clock
    std::atomic<bool> in_job{false};      // running this job's chunks
  };
  // Pins the workers in the job that get no CPU time to the caller's CPU; their ids.
  std::vector<pid_t> pull_descheduled_workers();

  // Leaves the job: the last thread out wakes a caller that sleeps waiting for it.
  void leave_job();

  // The job, in one cache line that a waking worker reads at once. The caller (one at a
  // time: thread_pool.cpp's one_job) writes the task and the ranges, then opens the job
  // by making the generation odd; after its own chunks it closes it by making it even and
  // waits for active_ to reach 0. A worker that sees an odd generation counts itself in
  // active_ and then checks that the generation has not moved: if it has not, the job
  // was still open when it joined, so the caller, which closes before it waits, waits
  // for it. No lock on this path: a mutex here cost the worker a futex wait and the
  // caller a wake-up whenever the worker came for it while the caller held it.
  struct alignas(64) Job {
    std::atomic<uint64_t> generation{0};
    void* task = nullptr;
    Invoke invoke = nullptr;
    std::atomic<int> caller_cpu{-1};  // the CPU of the caller (see keep_off_callers_cpu)
  };
  Job job_;
  std::unique_ptr<Range[]> ranges_;  // threads() of them
  alignas(64) std::atomic<int> active_{0};

  // Sleeping. A worker that has spun long enough for a job sleeps on new_job_, counted
  // in sleepers_; a caller that has spun long enough for active_ sleeps on job_done_
  // with caller_waiting_ set. Each side writes its own word, then reads the other's
  // (all sequentially consistent): either the sleeper sees the change or the other side
  // sees the sleeper and wakes it under sleep_mutex_. Nobody takes the mutex while both
  // sides are awake.
  alignas(64) std::atomic<int> sleepers_{0};
  std::atomic<bool> caller_waiting_{false};
  std::atomic<bool> stopping_{false};
  std::mutex sleep_mutex_;
  std::condition_variable new_job_, job_done_;
  std::vector<std::thread> workers_;
};

}  // namespace axon::kernels
