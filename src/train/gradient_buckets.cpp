#include "gradient_buckets.h"

#include <cstring>

namespace axon::detail {

GradientBuckets::GradientBuckets(std::vector<Variable> parameters, Communicator& communicator, int64_t bucket_bytes)
    : parameters_(std::move(parameters)), communicator_(communicator), slots_(parameters_.size()) {
  if (bucket_bytes < 1) fail("DataParallel: bucket_bytes must be >= 1, got ", bucket_bytes);
  // Last parameter first: the backward pass finishes the last layers first.
  std::vector<std::vector<size_t>> groups;
  int64_t bytes = bucket_bytes;
  for (size_t i = parameters_.size(); i-- > 0;) {
    const Variable& p = parameters_[i];
    if (p.dtype() != DType::f32) fail("DataParallel: parameter ", i, " is not float32");
    if (bytes >= bucket_bytes) groups.emplace_back(), bytes = 0;
    groups.back().push_back(i);
    bytes += p.numel() * static_cast<int64_t>(sizeof(float));
    index_of_[p.identity()] = i;
  }
  for (std::vector<size_t>& group : groups) {
    int64_t elements = 0;
    for (size_t i : group) {
      slots_[i] = {buckets_.size(), elements, false};
      elements += parameters_[i].numel();
    }
    buckets_.push_back({std::move(group), Tensor::zeros({elements}), 0, {}});
  }
}

std::vector<int64_t> GradientBuckets::bucket_elements() const {
  std::vector<int64_t> elements;
  for (const Bucket& bucket : buckets_) elements.push_back(bucket.flat.numel());
  return elements;
}

void GradientBuckets::ready(const void* leaf) {
  const auto found = index_of_.find(leaf);
  if (found == index_of_.end()) return;  // not a trainable parameter of the model
  Slot& slot = slots_[found->second];
  if (slot.ready) return;
  slot.ready = true;
  ++buckets_[slot.bucket].ready;
  while (next_ < buckets_.size() && buckets_[next_].ready == buckets_[next_].parameters.size())
    start(buckets_[next_++]);
}

void GradientBuckets::start(Bucket& bucket) {
  float* flat = bucket.flat.data<float>();
  for (size_t i : bucket.parameters) {
    const Tensor& grad = parameters_[i].grad();
    const int64_t n = parameters_[i].numel();
    float* to = flat + slots_[i].offset;
    if (grad.defined())
      std::memcpy(to, grad.data<float>(), static_cast<size_t>(n) * sizeof(float));
    else
      std::memset(to, 0, static_cast<size_t>(n) * sizeof(float));
  }
  bucket.sum = communicator_.start_allreduce_sum(flat, static_cast<size_t>(bucket.flat.numel()));
}

void GradientBuckets::finish() {
  while (next_ < buckets_.size()) start(buckets_[next_++]);
  for (Bucket& bucket : buckets_) {
    bucket.sum.wait();
    for (size_t i : bucket.parameters) {
      Variable& p = parameters_[i];
      p.set_grad(bucket.flat.rows(slots_[i].offset, slots_[i].offset + p.numel()).reshape(p.shape().dims()));
      slots_[i].ready = false;
    }
    bucket.ready = 0;
    bucket.sum = {};
  }
  next_ = 0;
}

}  // namespace axon::detail
