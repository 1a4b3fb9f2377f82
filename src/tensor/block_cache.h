#pragma once
// Tensor memory. Small blocks come straight from aligned_alloc. Large blocks (activations,
// gradients, column buffers) are kept on release and handed out again for the next
// request of about the same size: a training step frees and re-requests the same sizes
// every batch, and returning them to the kernel each time cost a page fault per 4 KiB
// (15% of a CNN epoch). Thread-safe. Disabled under AddressSanitizer, so it still sees
// every use after free.
#include <cstddef>
#include <cstdint>
#include <memory>

namespace axon::detail {

constexpr size_t kTensorAlignment = 64;  // a cache line; lets SIMD loads run aligned
constexpr size_t kHugePage = size_t{2} << 20;  // blocks this large start on it and ask for huge pages

// A block of at least `bytes` bytes, aligned to kTensorAlignment; throws axon::Error when
// memory runs out.
std::shared_ptr<void> allocate_tensor_memory(size_t bytes);

// `count` values of T from the same blocks, uninitialised: a kernel's scratch buffers
// (reused from call to call, so no page faults) or the argmax offsets of max pooling.
template <class T>
std::shared_ptr<T> allocate_scratch(int64_t count) {
  std::shared_ptr<void> memory = allocate_tensor_memory(static_cast<size_t>(count) * sizeof(T));
  return std::shared_ptr<T>(memory, static_cast<T*>(memory.get()));
}

}  // namespace axon::detail
