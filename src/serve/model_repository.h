#pragma once
// A model repository in Triton's and TensorFlow Serving's layout, served live:
//   DIR/<name>/<version>/model.safetensors      (version: a positive integer)
// A version policy picks the versions to serve; a watcher loads them, and on each poll
// loads new versions and drops removed ones. A version is swapped in only once it has
// loaded and run an example; one that fails is logged and skipped (the next policy
// choice serves instead) until its file changes. Requests in flight finish on the
// version they started on.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "model_table.h"

namespace axon::serve {

class ServerMetrics;

// "latest:N" (the N newest; "latest" is latest:1), "all", or "specific:1,3".
struct VersionPolicy {
  enum class Kind { latest, all, specific };
  Kind kind = Kind::latest;
  int64_t latest = 1;
  std::vector<int64_t> versions;

  static VersionPolicy parse(const std::string& text);  // throws axon::Error
  std::vector<int64_t> choose(const std::vector<int64_t>& available) const;
};

// Every model folder with a valid name, and in it every version folder that holds a
// model.safetensors: name -> version -> file.
using RepositoryContents = std::map<std::string, std::map<int64_t, std::string>>;
RepositoryContents scan_repository(const std::string& dir);

struct RepositoryState {  // one line of the repository index
  std::string name;
  int64_t version;
  std::string state;   // READY or UNAVAILABLE
  std::string reason;  // why not READY
};

class RepositoryWatcher {
 public:
  using Log = std::function<void(const std::string& line)>;
  // Loads what the policy chooses now (failures are logged, not thrown).
  RepositoryWatcher(std::string dir, VersionPolicy policy, ModelTable& table, BatchingOptions batching,
                    ServerMetrics& metrics, Log log);
  ~RepositoryWatcher();  // stop()

  void poll_every(std::chrono::milliseconds interval);  // starts the polling thread
  void stop();

  // Model control: load (or reload) a model's versions now and keep polling it, or stop
  // serving it until it is loaded again. HttpError naming the problem.
  void load(const std::string& name);
  void unload(const std::string& name);
  std::vector<RepositoryState> index() const;

 private:
  // Brings one model's served versions in line with its folder and the policy.
  void sync(const std::string& name, const std::map<int64_t, std::string>& available);
  void sync_all();

  struct Failure {
    std::filesystem::file_time_type modified;
    uintmax_t size;
    std::string reason;
  };

  std::string dir_;
  VersionPolicy policy_;
  ModelTable& table_;
  BatchingOptions batching_;
  ServerMetrics& metrics_;
  Log log_;
  mutable std::mutex sync_mutex_;  // one sync at a time; guards the members below
  std::set<std::string> known_, unloaded_;
  std::map<std::string, Failure> failed_;  // by file path, until the file changes
  std::mutex stop_mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::thread poller_;
};

}  // namespace axon::serve
