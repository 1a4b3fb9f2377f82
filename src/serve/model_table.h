#pragma once
// The models a server serves, each with its loaded versions, swapped whole (copy on
// write): a request takes a snapshot and keeps its version alive until it is answered,
// however the table changes meanwhile. Versions taken out are destroyed by reap(), on
// the thread that changes the table, once no request holds them: never on an I/O or a
// batcher thread.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "served_model.h"

namespace axon::serve {

// A version as a request names it ("" for none: the newest); HttpError(404) unless a
// positive integer.
std::optional<int64_t> requested_version(const std::string& text);

class ModelTable {
 public:
  using Versions = std::map<int64_t, std::shared_ptr<ServedVersion>, std::greater<>>;  // newest first
  using Models = std::map<std::string, Versions>;

  std::shared_ptr<const Models> snapshot() const;
  // The newest version, or the one asked for; HttpError(404) naming what is missing.
  std::shared_ptr<ServedVersion> find(const std::string& name, std::optional<int64_t> version) const;
  static std::shared_ptr<ServedVersion> find(const Models& models, const std::string& name,
                                             std::optional<int64_t> version);
  static const Versions& versions(const Models& models, const std::string& name);  // 404 when none
  // Replaces a model's versions (none: it is no longer served).
  void set(const std::string& name, Versions versions);
  void reap();

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Models> models_ = std::make_shared<Models>();
  std::vector<std::shared_ptr<ServedVersion>> retired_;
};

}  // namespace axon::serve
