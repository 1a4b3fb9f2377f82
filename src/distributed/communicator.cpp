// The parts of Communicator that do not depend on MPI: waiting with a deadline,
// recognising a process that mpirun started, and the replica scope.
#include "axon/communicator.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "replica.h"

namespace axon {

namespace detail {

namespace {
thread_local Communicator* current_replicas = nullptr;
}

Communicator* replica_communicator() { return current_replicas; }
ReplicaScope::ReplicaScope(Communicator* ranks) : previous_(current_replicas) { current_replicas = ranks; }
ReplicaScope::~ReplicaScope() { current_replicas = previous_; }

}  // namespace detail

void Communicator::Pending::wait() const {
  if (!done_.valid()) return;
  const auto limit = std::chrono::duration<double>(owner_->timeout());
  if (done_.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr,
                 "axon: rank %d of %d: %s got no answer from the other ranks within %g s (a rank died or hangs); "
                 "ending the job\n",
                 owner_->rank(), owner_->size(), what_, owner_->timeout());
    owner_->abort(1);
  }
  done_.get();  // rethrows an MPI error
}

bool launched_by_mpirun() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(variable)) return true;
  return false;
}

}  // namespace axon
