#pragma once
// Which data-parallel run (if any) the current thread is training in: synchronized
// BatchNormalization reads it to take its statistics over every rank's batch.
#include "axon/communicator.h"

namespace axon::detail {

// The ranks of the data-parallel fit running on this thread; null when none is.
Communicator* replica_communicator();

// Sets replica_communicator() for its scope (fit's training loop).
class ReplicaScope {
 public:
  explicit ReplicaScope(Communicator* ranks);
  ~ReplicaScope();
  ReplicaScope(const ReplicaScope&) = delete;
  ReplicaScope& operator=(const ReplicaScope&) = delete;

 private:
  Communicator* previous_;
};

}  // namespace axon::detail
