#include "tensor/allocation_limit.h"

#include "axon/error.h"

namespace axon::detail {

namespace {
thread_local AllocationLimit* innermost = nullptr;
}

AllocationLimit::AllocationLimit(int64_t bytes, std::string message)
    : remaining_(bytes), message_(std::move(message)), outer_(innermost) {
  innermost = this;
}

AllocationLimit::~AllocationLimit() { innermost = outer_; }

void AllocationLimit::charge(uint64_t bytes) {
  AllocationLimit* limit = innermost;
  if (!limit) return;
  if (bytes > static_cast<uint64_t>(limit->remaining_)) fail(limit->message_, " (", bytes, " more bytes asked for)");
  limit->remaining_ -= static_cast<int64_t>(bytes);
}

}  // namespace axon::detail
