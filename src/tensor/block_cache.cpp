#include "tensor/block_cache.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>

#include "axon/error.h"

#if defined(__SANITIZE_ADDRESS__)
#define AXON_CACHE_BLOCKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AXON_CACHE_BLOCKS 0
#endif
#endif
#ifndef AXON_CACHE_BLOCKS
#define AXON_CACHE_BLOCKS 1
#endif

namespace axon::detail {

namespace {

constexpr size_t kSmallestCached = size_t{256} << 10;  // below this, malloc's own bins do well
constexpr size_t kCacheLimit = size_t{1} << 30;        // cached bytes above this are freed at once
constexpr size_t kPage = 4096;

// Blocks of 2 MiB and more start on a 2 MiB boundary and are offered to the kernel for
// transparent huge pages (given where its setting is "madvise", as on this project's
// machines, or "always"; the advice is ignored where they are off). With 4 KiB pages,
// each random 3 KB row a batch gathers from the 188 MB Fashion-MNIST training set costs
// a page walk that misses the cache: 128-row batches over an epoch took 97-110 ms; on
// huge pages 41.
void* aligned_block(size_t bytes) {
  const bool huge = bytes >= kHugePage;
  void* memory = nullptr;
  if (posix_memalign(&memory, huge ? kHugePage : kTensorAlignment, bytes) != 0)
    fail("Tensor: out of memory allocating ", bytes, " bytes");
  if (huge) madvise(memory, bytes, MADV_HUGEPAGE);  // advice only: no huge page is no error
  return memory;
}

class BlockCache {
 public:
  // A cached block of [bytes, bytes + bytes/8] bytes, or nullptr; `bytes` becomes its size.
  void* take(size_t& bytes) {
    std::lock_guard lock(mutex_);
    const auto it = blocks_.lower_bound(bytes);
    if (it == blocks_.end() || it->first > bytes + bytes / 8) return nullptr;
    bytes = it->first;
    void* block = it->second;
    cached_ -= it->first;
    blocks_.erase(it);
    return block;
  }

  void give(void* block, size_t bytes) {
    {
      std::lock_guard lock(mutex_);
      if (cached_ + bytes <= kCacheLimit) {
        blocks_.emplace(bytes, block);
        cached_ += bytes;
        return;
      }
    }
    std::free(block);
  }

 private:
  std::mutex mutex_;
  std::multimap<size_t, void*> blocks_;  // size -> block
  size_t cached_ = 0;
};

BlockCache& cache() {
  static BlockCache* instance = new BlockCache;  // never destroyed: tensors may outlive static destructors
  return *instance;
}

}  // namespace

std::shared_ptr<void> allocate_tensor_memory(size_t bytes) {
  bytes = (std::max<size_t>(bytes, 1) + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
  if (!AXON_CACHE_BLOCKS || bytes < kSmallestCached) return std::shared_ptr<void>(aligned_block(bytes), std::free);
  bytes = (bytes + kPage - 1) / kPage * kPage;
  void* block = cache().take(bytes);
  if (!block) block = aligned_block(bytes);
  return std::shared_ptr<void>(block, [bytes](void* p) { cache().give(p, bytes); });
}

}  // namespace axon::detail
