#pragma once
// GradientBuckets: sums the gradients of a model's trainable parameters over the ranks
// of a Communicator, as PyTorch's DistributedDataParallel does. The parameters are
// packed, last layer first, into flat buckets of about `bucket_bytes`; backward()
// reports each gradient as it completes (ready()), and a bucket whose gradients are all
// in starts summing on the communicator's thread while the pass goes on through the
// earlier layers. Buckets start in index order on every rank, whatever order their
// gradients arrive in, so every rank issues the same collectives in the same order.
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "axon/communicator.h"
#include "axon/variable.h"

namespace axon::detail {

class GradientBuckets {
 public:
  GradientBuckets(std::vector<Variable> parameters, Communicator& communicator, int64_t bucket_bytes);

  // A GradientReady for Variable::backward: notes the parameter's gradient complete.
  void ready(const void* leaf);
  // Starts every bucket not started yet (a gradient backward never produced counts as
  // zeros), waits for every sum, and gives each parameter the sum of its gradients over
  // the ranks.
  void finish();

  std::vector<int64_t> bucket_elements() const;  // each bucket's size, in the order they start

 private:
  struct Bucket {
    std::vector<size_t> parameters;  // indices into parameters_
    Tensor flat;                     // (elements,): the bucket's gradients, back to back
    size_t ready = 0;                // how many of `parameters` have reported
    Communicator::Pending sum;
  };
  struct Slot {
    size_t bucket;
    int64_t offset;  // into the bucket's flat tensor
    bool ready;
  };
  void start(Bucket& bucket);

  std::vector<Variable> parameters_;
  Communicator& communicator_;
  std::vector<Bucket> buckets_;
  std::vector<Slot> slots_;                           // one per parameter
  std::unordered_map<const void*, size_t> index_of_;  // a parameter's identity() -> its index
  size_t next_ = 0;                                   // the first bucket not started
};

}  // namespace axon::detail
