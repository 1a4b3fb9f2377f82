#pragma once
// Communicator: the collective operations of data-parallel training among the size()
// processes ("ranks") of one job, each of which runs the same program. Every rank must
// issue the same collectives in the same order (MPI's rule); a collective waits for all.
//
//   std::shared_ptr<Communicator> world = mpi_world();  // the processes mpirun started
//   std::vector<float> g = ...;
//   world->allreduce_sum(g.data(), g.size());           // every rank now holds the sum
//
// Collectives run on one background thread per communicator, in the order they were
// started, so a bucket of gradients can be summed while the backward pass goes on:
// start_allreduce_sum() returns at once, wait() finishes it. A collective that gets no
// answer from the other ranks within timeout() seconds (a rank died or hangs) ends the
// whole job with a message naming the operation: a hang is never silent.
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <vector>

namespace axon {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;  // 0 .. size() - 1; rank 0 is the chief (prints and writes files)
  virtual int size() const = 0;
  bool chief() const { return rank() == 0; }
  // Seconds a rank waits for the others before it ends the job.
  virtual double timeout() const = 0;

  // Element-wise sum over every rank, in place: each rank gets the sum of all ranks'
  // data[0 .. count). A handle for wait(): the data must stay alive until then.
  class Pending {
   public:
    Pending() = default;
    // `what` names the operation in the timeout message: a string literal.
    Pending(std::shared_future<void> done, const Communicator* owner, const char* what)
        : done_(std::move(done)), owner_(owner), what_(what) {}
    void wait() const;  // returns when the sum is in place; rethrows an MPI error
    bool valid() const { return done_.valid(); }

   private:
    std::shared_future<void> done_;
    const Communicator* owner_ = nullptr;
    const char* what_ = "";
  };
  virtual Pending start_allreduce_sum(float* data, size_t count) = 0;
  virtual Pending start_allreduce_sum(double* data, size_t count) = 0;
  void allreduce_sum(float* data, size_t count) { start_allreduce_sum(data, count).wait(); }
  void allreduce_sum(double* data, size_t count) { start_allreduce_sum(data, count).wait(); }
  // The largest value over every rank (e.g. "does any rank want to stop?").
  virtual double allreduce_max(double value) = 0;
  // Rank `root`'s data[0 .. count) copied to every rank.
  virtual void broadcast(float* data, size_t count, int root = 0) = 0;
  // Every rank's values (of any length), in rank order.
  virtual std::vector<std::vector<double>> allgather(const std::vector<double>& values) = 0;
  virtual void barrier() = 0;
  // Ends every rank of the job at once with `code` (after an error on this one, so
  // the others do not wait for it).
  [[noreturn]] virtual void abort(int code) const = 0;
};

// Whether this axon was built with MPI.
bool mpi_available();
// Whether this process was started by mpirun (Open MPI's or a PMI launcher's
// environment) as one of several ranks.
bool launched_by_mpirun();
// The processes mpirun started together (MPI_COMM_WORLD). Initialises MPI on the first
// call (it is finalised at exit); later calls return the same communicator. A single
// process not started by mpirun gets a world of size 1. Fails when built without MPI.
// Its timeout is AXON_COLLECTIVE_TIMEOUT seconds from the environment, else 300.
std::shared_ptr<Communicator> mpi_world();

}  // namespace axon
