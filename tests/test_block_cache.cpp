// Tensor memory: aligned blocks, large ones reused after release (outside ASan builds),
// and a reused block never leaks its old contents into zeros() or across threads.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "axon/axon.h"
#include "tensor/block_cache.h"

namespace axon {
namespace {

TEST(BlockCache, BlocksAreAlignedAtEverySize) {
  for (size_t bytes : {size_t{1}, size_t{63}, size_t{4096}, size_t{300000}, size_t{5} << 20}) {
    const std::shared_ptr<void> block = detail::allocate_tensor_memory(bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block.get()) % detail::kTensorAlignment, 0u) << bytes;
  }
}

// A block of 2 MiB or more starts on a 2 MiB boundary and its mapping carries the
// huge-page advice ("hg" among its VmFlags in /proc/self/smaps).
TEST(BlockCache, LargeBlocksAskForHugePages) {
  if (!std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled")) GTEST_SKIP() << "no transparent huge pages";
  const std::shared_ptr<void> block = detail::allocate_tensor_memory(size_t{5} << 20);
  const auto at = reinterpret_cast<uintptr_t>(block.get());
  EXPECT_EQ(at % detail::kHugePage, 0u);
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false, advised = false;
  for (std::string line; std::getline(smaps, line);) {
    uintptr_t begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &begin, &end) == 2) inside = begin <= at && at < end;  // a mapping
    if (inside && line.rfind("VmFlags:", 0) == 0) advised = line.find(" hg") != std::string::npos;
  }
  EXPECT_TRUE(advised) << "the block's mapping has no huge-page advice";
}

TEST(BlockCache, ReusedBlocksStillGiveZeros) {
  const Shape large{1024, 1024};  // 4 MiB: cached on release
  const void* first = nullptr;
  {
    Tensor dirty = Tensor::full(large, 7.0);
    first = dirty.raw();
  }
  const Tensor zeros = Tensor::zeros(large);
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_EQ(zeros.raw(), first);  // the released block came back
#else
  (void)first;  // the cache is off under AddressSanitizer
#endif
  const float* p = zeros.data<float>();
  for (int64_t i = 0; i < zeros.numel(); ++i) ASSERT_EQ(p[i], 0.0f) << i;
}

TEST(BlockCache, ThreadsAllocatingAndReleasingGetDistinctBlocks) {
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &mismatches] {
      for (int round = 0; round < 50; ++round) {
        Tensor block = Tensor::full({512, 512}, static_cast<double>(t));  // 1 MiB
        const float* p = block.data<float>();
        for (int64_t i = 0; i < block.numel(); i += 997)
          if (p[i] != static_cast<float>(t)) ++mismatches;
      }
    });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace axon
