#pragma once
// AllocationLimit: while one is alive on a thread, the tensor memory that thread takes
// in all counts against a byte budget, and the allocation that would pass it fails
// with `message` instead. Loading a model file sets one from the file's size, so a
// tiny hostile file cannot make the loader build gigabytes of weights.
#include <cstdint>
#include <string>

namespace axon::detail {

class AllocationLimit {
 public:
  AllocationLimit(int64_t bytes, std::string message);
  ~AllocationLimit();
  AllocationLimit(const AllocationLimit&) = delete;
  AllocationLimit& operator=(const AllocationLimit&) = delete;

  // Counts `bytes` against the innermost limit of this thread, if any; throws when over.
  static void charge(uint64_t bytes);

 private:
  int64_t remaining_;
  std::string message_;
  AllocationLimit* outer_;
};

}  // namespace axon::detail
