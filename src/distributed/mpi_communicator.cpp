// mpi_world(): MPI_COMM_WORLD as a Communicator. One background thread issues every
// MPI call after MPI_Init, in the order the collectives were started (so every rank
// issues them in the same order), while the caller goes on computing. Blocking MPI
// collectives on that thread, not MPI_I* ones: Open MPI 4.1's non-blocking allreduce
// (libnbc) moved 55-65 % of the blocking one's bytes per second on this machine.
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "axon/communicator.h"
#include "axon/error.h"

#if AXON_HAVE_MPI
#include <mpi.h>
#endif

namespace axon {

#if AXON_HAVE_MPI

namespace {

double timeout_from_environment() {
  const char* text = std::getenv("AXON_COLLECTIVE_TIMEOUT");
  if (!text) return 300.0;
  char* end = nullptr;
  const double seconds = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(seconds > 0))
    fail("AXON_COLLECTIVE_TIMEOUT: expected a positive number of seconds, got '", text, "'");
  return seconds;
}

std::string mpi_error(const char* what, int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(what) + " failed: " + std::string(text, static_cast<size_t>(length));
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() : timeout_(timeout_from_environment()) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      // MULTIPLE so that abort() may run while the background thread waits in MPI.
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
      if (provided < MPI_THREAD_SERIALIZED) fail("MPI: this MPI library cannot be called from a second thread");
      owns_mpi_ = true;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);  // errors become exceptions, not exits
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    worker_ = std::thread([this] { run(); });
  }

  ~MpiCommunicator() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    worker_.join();
    if (owns_mpi_) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  double timeout() const override { return timeout_; }

  Pending start_allreduce_sum(float* data, size_t count) override {
    return post("allreduce",
                [=] { return MPI_Allreduce(MPI_IN_PLACE, data, checked(count), MPI_FLOAT, MPI_SUM, world); });
  }
  Pending start_allreduce_sum(double* data, size_t count) override {
    return post("allreduce",
                [=] { return MPI_Allreduce(MPI_IN_PLACE, data, checked(count), MPI_DOUBLE, MPI_SUM, world); });
  }
  double allreduce_max(double value) override {
    post("allreduce", [&] { return MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, world); }).wait();
    return value;
  }
  void broadcast(float* data, size_t count, int root) override {
    if (root < 0 || root >= size_) fail("broadcast: root ", root, " is not a rank of ", size_);
    post("broadcast", [=] { return MPI_Bcast(data, checked(count), MPI_FLOAT, root, world); }).wait();
  }
  std::vector<std::vector<double>> allgather(const std::vector<double>& values) override {
    std::vector<int> counts(static_cast<size_t>(size_)), offsets(static_cast<size_t>(size_));
    std::vector<double> all;
    post("allgather", [&] {
      const int mine = checked(values.size());
      if (const int rc = MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, world); rc != MPI_SUCCESS)
        return rc;
      size_t total = 0;
      for (size_t r = 0; r < counts.size(); ++r) {
        offsets[r] = checked(total);
        total += static_cast<size_t>(counts[r]);
      }
      all.resize(total);
      return MPI_Allgatherv(values.data(), mine, MPI_DOUBLE, all.data(), counts.data(), offsets.data(), MPI_DOUBLE,
                            world);
    }).wait();
    std::vector<std::vector<double>> out;
    for (size_t r = 0; r < counts.size(); ++r)
      out.emplace_back(all.begin() + offsets[r], all.begin() + offsets[r] + counts[r]);
    return out;
  }
  void barrier() override {
    post("barrier", [] { return MPI_Barrier(world); }).wait();
  }
  [[noreturn]] void abort(int code) const override {
    std::fflush(nullptr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  static inline const MPI_Comm world = MPI_COMM_WORLD;

  struct Task {
    const char* what;
    std::function<int()> call;  // returns an MPI error code
    std::shared_ptr<std::promise<void>> done;
  };

  static int checked(size_t count) {
    if (count > static_cast<size_t>(INT32_MAX)) fail("MPI: ", count, " values is more than one call can carry");
    return static_cast<int>(count);
  }

  Pending post(const char* what, std::function<int()> call) {
    auto done = std::make_shared<std::promise<void>>();
    Pending pending(done->get_future().share(), this, what);
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back({what, std::move(call), std::move(done)});
    }
    wake_.notify_one();
    return pending;
  }

  void run() {
    for (;;) {
      Task task;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      try {
        const int code = task.call();
        if (code != MPI_SUCCESS) fail(mpi_error(task.what, code));
        task.done->set_value();
      } catch (...) {
        task.done->set_exception(std::current_exception());
      }
    }
  }

  double timeout_;
  bool owns_mpi_ = false;
  int rank_ = 0, size_ = 1;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> tasks_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace

bool mpi_available() { return true; }

std::shared_ptr<Communicator> mpi_world() {
  static const std::shared_ptr<Communicator> world = std::make_shared<MpiCommunicator>();
  return world;
}

#else

bool mpi_available() { return false; }

std::shared_ptr<Communicator> mpi_world() {
  fail("this axon was built without MPI: install Open MPI (scripts/bootstrap) and build again");
}

#endif

}  // namespace axon
