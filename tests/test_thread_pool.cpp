// The thread pool every kernel runs on: each chunk runs exactly once, whoever claims it,
// under nesting, concurrent callers and resizing; workers and callers that slept are
// woken; GEMM called from several threads at once gives the one-thread products (the
// OpenMP build of OpenBLAS did not); each thread starts on its home range of chunks;
// a worker placed on its caller's CPU moves off it; and one that gets no CPU time is
// pulled onto the CPU of the caller that waits for it.
#include <gtest/gtest.h>

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "axon/axon.h"
#include "kernels/gemm.h"
#include "kernels/parallel.h"
#include "kernels/thread_pool.h"

namespace axon {
namespace {

using kernels::ThreadPool;

class ThreadPoolTest : public ::testing::Test {
 protected:
  void SetUp() override { set_num_threads(2); }
  void TearDown() override { set_num_threads(2); }
};

// The calling thread's CPUs, and a set of the first of them alone.
struct Cpus {
  cpu_set_t all{};
  cpu_set_t only_first{};
  int first = 0;
};
Cpus current_cpus() {
  Cpus cpus;
  if (sched_getaffinity(0, sizeof cpus.all, &cpus.all) != 0) CPU_ZERO(&cpus.all);
  while (cpus.first < CPU_SETSIZE - 1 && !CPU_ISSET(cpus.first, &cpus.all)) ++cpus.first;
  CPU_ZERO(&cpus.only_first);
  CPU_SET(cpus.first, &cpus.only_first);
  return cpus;
}

// Runs `jobs` jobs of various chunk counts; every chunk of every job must run once.
void expect_each_chunk_once(int jobs) {
  for (int job = 0; job < jobs; ++job) {
    const int64_t chunks = 1 + job % 37;
    std::vector<std::atomic<int>> runs(static_cast<size_t>(chunks));
    ThreadPool::instance().run(chunks, [&](int64_t c) { runs[static_cast<size_t>(c)].fetch_add(1); });
    for (int64_t c = 0; c < chunks; ++c)
      ASSERT_EQ(runs[static_cast<size_t>(c)].load(), 1) << "job " << job << " chunk " << c;
  }
}

TEST_F(ThreadPoolTest, EveryChunkRunsExactlyOnce) { expect_each_chunk_once(20000); }

TEST_F(ThreadPoolTest, WorksAtEveryThreadCount) {
  for (int threads : {1, 3, 2}) {
    set_num_threads(threads);
    EXPECT_EQ(ThreadPool::instance().threads(), threads);
    expect_each_chunk_once(500);
  }
}

TEST_F(ThreadPoolTest, NestedJobsRunInlineOnTheClaimingThread) {
  std::atomic<int> inner{0};
  ThreadPool::instance().run(8, [&](int64_t) {
    EXPECT_TRUE(ThreadPool::in_task());
    const std::thread::id self = std::this_thread::get_id();
    ThreadPool::instance().run(5, [&](int64_t) {
      EXPECT_EQ(std::this_thread::get_id(), self);
      inner.fetch_add(1);
    });
  });
  EXPECT_EQ(inner.load(), 40);
  EXPECT_FALSE(ThreadPool::in_task());
}

TEST_F(ThreadPoolTest, ConcurrentCallersEachGetAllTheirChunks) {
  std::vector<std::thread> callers;
  std::atomic<bool> ok{true};
  for (int t = 0; t < 3; ++t)
    callers.emplace_back([&] {
      for (int job = 0; job < 3000; ++job) {
        std::atomic<int64_t> sum{0};
        ThreadPool::instance().run(16, [&](int64_t c) { sum.fetch_add(c + 1); });
        if (sum.load() != 16 * 17 / 2) ok = false;
      }
    });
  for (std::thread& caller : callers) caller.join();
  EXPECT_TRUE(ok.load());
}

TEST_F(ThreadPoolTest, ParallelForCoversTheRangeOnce) {
  for (int64_t n : {int64_t{2}, int64_t{1000}, int64_t{1} << 20}) {
    std::vector<int> seen(static_cast<size_t>(n), 0);
    kernels::parallel_for(n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) ++seen[static_cast<size_t>(i)];
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(seen[static_cast<size_t>(i)], 1) << "n " << n << " index " << i;
  }
}

TEST_F(ThreadPoolTest, GemmFromSeveralThreadsAtOnceMatchesOneThread) {
  Generator gen(3);
  const int64_t m = 128, n = 128, k = 784;
  const Tensor a = gen.uniform(Shape{m, k}, -1, 1), b = gen.uniform(Shape{k, n}, -1, 1);
  auto product = [&](Tensor& c) {
    kernels::gemm<float>(false, false, m, n, k, 1.f, a.data<float>(), k, b.data<float>(), n, 0.f, c.data<float>(), n);
  };
  set_num_threads(1);
  Tensor expected = Tensor::empty(Shape{m, n});
  product(expected);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    std::atomic<int> wrong{0};
    std::vector<std::thread> callers;
    for (int t = 0; t < 2; ++t)
      callers.emplace_back([&] {
        Tensor c = Tensor::empty(Shape{m, n});
        for (int rep = 0; rep < 200; ++rep) {
          product(c);
          if (std::memcmp(c.data<float>(), expected.data<float>(), sizeof(float) * m * n) != 0) wrong.fetch_add(1);
        }
      });
    for (std::thread& caller : callers) caller.join();
    EXPECT_EQ(wrong.load(), 0) << "of 400 products at " << threads << " threads";
  }
}

// Jobs far apart, so the workers sleep between them, whose worker chunk outlasts the
// caller's spin: the worker is woken for the job, the caller sleeps until the worker
// leaves it, and run returns only after every chunk is done. A lost wake-up hangs here.
TEST_F(ThreadPoolTest, WorkersAndACallerThatSleptAreWokenForEachJob) {
  const std::thread::id caller = std::this_thread::get_id();
  int worker_chunks = 0;
  for (int job = 0; job < 20; ++job) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // idle workers spin 50 us, then sleep
    std::atomic<bool> done[2] = {false, false}, by_worker{false};
    ThreadPool::instance().run(2, [&](int64_t c) {
      const bool on_worker = std::this_thread::get_id() != caller;
      std::this_thread::sleep_for(std::chrono::microseconds(c == 0 ? 300 : on_worker ? 2000 : 0));
      if (on_worker) by_worker = true;
      done[c] = true;
    });
    EXPECT_TRUE(done[0].load() && done[1].load()) << "job " << job << " returned before its chunks were done";
    worker_chunks += by_worker.load();
  }
  EXPECT_GT(worker_chunks, 0) << "no sleeping worker woke for a job in 20";
}

// Each thread starts on its home range: in an 8-chunk job on 2 threads the caller takes
// chunk 0 and the worker chunk 4, not the next one in line. Every chunk waits until both
// threads have begun one (5 s at most), so neither can run the other's range first.
TEST_F(ThreadPoolTest, EachThreadStartsOnItsHomeRange) {
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<int64_t> workers_first{-1};
  std::atomic<int64_t> callers_first{-1};
  ThreadPool::instance().run(8, [&](int64_t c) {
    auto& first = std::this_thread::get_id() == caller ? callers_first : workers_first;
    int64_t none = -1;
    first.compare_exchange_strong(none, c);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while ((callers_first.load() < 0 || workers_first.load() < 0) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
  });
  EXPECT_EQ(callers_first.load(), 0);
  EXPECT_EQ(workers_first.load(), 4) << "the worker began outside its home range [4, 8)";
}

// Forces a worker onto the caller's CPU (both pinned to the first allowed CPU), runs a
// job, and expects the worker to have moved itself to another CPU before its first
// chunk, and to hold the process's whole set of CPUs again after.
TEST_F(ThreadPoolTest, AWorkerOnTheCallersCpuMovesOffIt) {
  const Cpus cpus = current_cpus();
  if (CPU_COUNT(&cpus.all) < 2) GTEST_SKIP() << "needs two CPUs";
  // A job of sleeping chunks: the thread of each chunk and its CPU as the chunk starts;
  // the worker's chunks, in the order it claimed them.
  struct Seen {
    pid_t tid;
    int cpu;
  };
  auto worker_chunks = [] {
    const pid_t caller = gettid();
    std::vector<Seen> seen;
    for (int attempt = 0; attempt < 20 && seen.empty(); ++attempt) {  // a loaded machine may keep the worker out
      seen.assign(8, Seen{0, -1});
      ThreadPool::instance().run(8, [&](int64_t c) {
        if (gettid() != caller) seen[static_cast<size_t>(c)] = {gettid(), sched_getcpu()};
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      });
      std::erase_if(seen, [](const Seen& s) { return s.tid == 0; });
    }
    return seen;
  };
  const std::vector<Seen> found = worker_chunks();
  ASSERT_FALSE(found.empty()) << "the worker ran no chunk of an 8-chunk job of 2 ms chunks";
  const pid_t worker = found.front().tid;
  ASSERT_EQ(sched_setaffinity(0, sizeof cpus.only_first, &cpus.only_first), 0);
  ASSERT_EQ(sched_setaffinity(worker, sizeof cpus.only_first, &cpus.only_first), 0);
  const std::vector<Seen> moved = worker_chunks();
  ASSERT_EQ(sched_setaffinity(0, sizeof cpus.all, &cpus.all), 0);
  ASSERT_FALSE(moved.empty());
  EXPECT_NE(moved.front().cpu, cpus.first) << "the worker's first chunk ran on the caller's CPU";
  cpu_set_t now;
  ASSERT_EQ(sched_getaffinity(worker, sizeof now, &now), 0);
  EXPECT_TRUE(CPU_EQUAL(&now, &cpus.all)) << "the worker did not get the process's CPUs back";
}

// A worker that holds a chunk but gets no CPU time (here it sleeps in it, as a worker
// descheduled beside a busy process would wait) is pinned to the CPU of the caller that
// waits for it, and gets the process's CPUs back when the job is over. The caller is
// pinned to the first CPU for the test, so that its CPU is known.
TEST_F(ThreadPoolTest, AWorkerWithoutCpuTimeIsPulledToTheWaitingCallersCpu) {
  const Cpus cpus = current_cpus();
  if (CPU_COUNT(&cpus.all) < 2) GTEST_SKIP() << "needs two CPUs";
  ASSERT_EQ(sched_setaffinity(0, sizeof cpus.only_first, &cpus.only_first), 0);
  const pid_t caller = gettid();
  pid_t worker = 0;
  cpu_set_t during;
  for (int attempt = 0; attempt < 20 && worker == 0; ++attempt) {  // a loaded machine may keep the worker out
    std::atomic<pid_t> in_chunk{0};
    CPU_ZERO(&during);
    ThreadPool::instance().run(2, [&](int64_t) {
      if (gettid() == caller) {  // until the worker holds its chunk (1 s at most)
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        while (in_chunk.load() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
        return;
      }
      in_chunk = gettid();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the caller spins 50 + 20 us, then pulls
      sched_getaffinity(0, sizeof during, &during);
    });
    worker = in_chunk.load();
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof cpus.all, &cpus.all), 0);
  ASSERT_NE(worker, 0) << "the worker ran no chunk in 20 jobs";
  EXPECT_TRUE(CPU_EQUAL(&during, &cpus.only_first)) << "the worker was not pinned to the waiting caller's CPU";
  cpu_set_t after;
  ASSERT_EQ(sched_getaffinity(worker, sizeof after, &after), 0);
  EXPECT_TRUE(CPU_EQUAL(&after, &cpus.all)) << "the worker did not get the process's CPUs back";
}

}  // namespace
}  // namespace axon
