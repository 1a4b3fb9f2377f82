#include "model_repository.h"

#include <algorithm>
#include <charconv>

#include "axon/error.h"
#include "axon/model_file.h"
#include "http_error.h"

namespace axon::serve {

namespace fs = std::filesystem;

namespace {

// A version folder's name: a positive integer of at most 18 digits, no sign or padding.
std::optional<int64_t> version_number(const std::string& text) {
  if (text.empty() || text.size() > 18 || text[0] < '1' || text[0] > '9') return std::nullopt;
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string versions_text(const ModelTable::Versions& versions) {
  std::string text;
  for (const auto& [number, served] : versions) text += (text.empty() ? "" : ", ") + std::to_string(number);
  return text.empty() ? "none" : text;
}

}  // namespace

VersionPolicy VersionPolicy::parse(const std::string& text) {
  VersionPolicy policy;
  const auto bad = [&] {
    fail("version policy '", text, "': expected latest:N, all, or specific:V1,V2,... (N, V positive integers)");
  };
  if (text == "all") {
    policy.kind = Kind::all;
  } else if (text == "latest") {
    policy.latest = 1;
  } else if (text.starts_with("latest:")) {
    const std::optional<int64_t> n = version_number(text.substr(7));
    if (!n) bad();
    policy.latest = *n;
  } else if (text.starts_with("specific:")) {
    policy.kind = Kind::specific;
    std::string rest = text.substr(9);
    for (size_t start = 0; start <= rest.size();) {
      const size_t comma = std::min(rest.find(',', start), rest.size());
      const std::optional<int64_t> v = version_number(rest.substr(start, comma - start));
      if (!v) bad();
      policy.versions.push_back(*v);
      start = comma + 1;
    }
  } else {
    bad();
  }
  return policy;
}

std::vector<int64_t> VersionPolicy::choose(const std::vector<int64_t>& available) const {
  std::vector<int64_t> sorted = available;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  switch (kind) {
    case Kind::all:
      return sorted;
    case Kind::latest:
      if (static_cast<int64_t>(sorted.size()) > latest) sorted.resize(static_cast<size_t>(latest));
      return sorted;
    case Kind::specific:
      std::erase_if(sorted, [&](int64_t v) { return std::find(versions.begin(), versions.end(), v) == versions.end(); });
      return sorted;
  }
  return {};
}

RepositoryContents scan_repository(const std::string& dir) {
  RepositoryContents contents;
  std::error_code ec;
  for (const fs::directory_entry& model : fs::directory_iterator(dir, ec)) {
    const std::string name = model.path().filename().string();
    if (!model.is_directory(ec) || !valid_model_name(name) || name.starts_with(".")) continue;
    for (const fs::directory_entry& version : fs::directory_iterator(model.path(), ec)) {
      const std::optional<int64_t> number = version_number(version.path().filename().string());
      // model.safetensors, else model.onnx
      fs::path file = version.path() / "model.safetensors";
      if (!fs::is_regular_file(file, ec)) file = version.path() / "model.onnx";
      if (number && version.is_directory(ec) && fs::is_regular_file(file, ec)) contents[name][*number] = file.string();
    }
    contents.try_emplace(name);  // a model folder without versions (yet)
  }
  if (ec && !fs::is_directory(dir)) fail("model repository ", dir, ": ", ec.message());
  return contents;
}

RepositoryWatcher::RepositoryWatcher(std::string dir, VersionPolicy policy, ModelTable& table,
                                     BatchingOptions batching, ServerMetrics& metrics, Log log)
    : dir_(std::move(dir)),
      policy_(std::move(policy)),
      table_(table),
      batching_(batching),
      metrics_(metrics),
      log_(std::move(log)) {
  if (!fs::is_directory(dir_)) fail("model repository ", dir_, ": not a folder");
  sync_all();
}

RepositoryWatcher::~RepositoryWatcher() { stop(); }

void RepositoryWatcher::poll_every(std::chrono::milliseconds interval) {
  poller_ = std::thread([this, interval] {
    std::unique_lock lock(stop_mutex_);
    while (!stop_signal_.wait_for(lock, interval, [this] { return stopping_; })) {
      lock.unlock();
      try {
        sync_all();
      } catch (const std::exception& e) {
        log_(std::string("repository: ") + e.what());
      }
      table_.reap();
      lock.lock();
    }
  });
}

void RepositoryWatcher::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  if (poller_.joinable()) poller_.join();
}

void RepositoryWatcher::sync_all() {
  const RepositoryContents contents = scan_repository(dir_);
  std::lock_guard lock(sync_mutex_);
  for (const std::string& name : known_)  // folders removed since the last poll
    if (!contents.contains(name)) sync(name, {});
  known_.clear();
  for (const auto& [name, versions] : contents) {
    known_.insert(name);
    if (!unloaded_.contains(name)) sync(name, versions);
  }
}

void RepositoryWatcher::sync(const std::string& name, const std::map<int64_t, std::string>& available) {
  const std::shared_ptr<const ModelTable::Models> models = table_.snapshot();
  const auto current_it = models->find(name);
  const ModelTable::Versions current = current_it == models->end() ? ModelTable::Versions{} : current_it->second;
  // Versions that failed stay out until their file changes.
  std::vector<int64_t> candidates;
  for (const auto& [number, path] : available) {
    std::error_code ec;
    const auto it = failed_.find(path);
    if (it != failed_.end() &&
        (it->second.modified != fs::last_write_time(path, ec) || it->second.size != fs::file_size(path, ec)))
      failed_.erase(it);
    if (!failed_.contains(path)) candidates.push_back(number);
  }
  // Load what the policy chooses; a version that fails leaves the candidates and the
  // policy chooses again (latest:1 with a broken newest version keeps the one before).
  ModelTable::Versions chosen;
  for (bool retry = true; retry;) {
    retry = false;
    chosen.clear();
    for (const int64_t number : policy_.choose(candidates)) {
      if (const auto it = current.find(number); it != current.end()) {
        chosen[number] = it->second;
        continue;
      }
      const std::string& path = available.at(number);
      try {
        std::shared_ptr<Model> model = load_model(path);
        chosen[number] = serve_version(name, number, model, built_input_shapes(name, *model), batching_, metrics_);
        log_("repository: loaded " + name + " version " + std::to_string(number) + " from " + path);
      } catch (const std::exception& e) {
        std::error_code ec;
        failed_[path] = {fs::last_write_time(path, ec), fs::file_size(path, ec), e.what()};
        log_("repository: rejected " + name + " version " + std::to_string(number) + ": " + e.what());
        std::erase(candidates, number);
        retry = true;
        break;
      }
    }
  }
  bool same = chosen.size() == current.size();
  for (const auto& [number, served] : chosen) same = same && current.contains(number);
  if (same) return;
  table_.set(name, chosen);
  log_("repository: serving " + name + " versions " + versions_text(chosen) + " (was " + versions_text(current) + ")");
}

void RepositoryWatcher::load(const std::string& name) {
  const RepositoryContents contents = scan_repository(dir_);
  const auto it = contents.find(name);
  if (it == contents.end()) throw HttpError(404, "no model '" + name + "' in the repository");
  std::lock_guard lock(sync_mutex_);
  unloaded_.erase(name);
  known_.insert(name);
  for (const auto& [number, path] : it->second) failed_.erase(path);  // an explicit load tries again
  sync(name, it->second);
  const std::shared_ptr<const ModelTable::Models> models = table_.snapshot();
  if (!models->contains(name)) {
    std::string reasons;
    for (const auto& [number, path] : it->second)
      if (const auto f = failed_.find(path); f != failed_.end())
        reasons += "; version " + std::to_string(number) + ": " + f->second.reason;
    throw HttpError(400, "model '" + name + "' has no version that loads" +
                             (reasons.empty() ? " (no version folder holds a model.safetensors or model.onnx)" : reasons));
  }
}

void RepositoryWatcher::unload(const std::string& name) {
  std::lock_guard lock(sync_mutex_);
  if (!known_.contains(name)) throw HttpError(404, "no model '" + name + "' in the repository");
  unloaded_.insert(name);
  table_.set(name, {});
  log_("repository: unloaded " + name);
}

std::vector<RepositoryState> RepositoryWatcher::index() const {
  const RepositoryContents contents = scan_repository(dir_);
  const std::shared_ptr<const ModelTable::Models> models = table_.snapshot();
  std::lock_guard lock(sync_mutex_);
  std::vector<RepositoryState> states;
  for (const auto& [name, versions] : contents) {
    const auto served = models->find(name);
    for (const auto& [number, path] : versions) {
      RepositoryState state{name, number, "UNAVAILABLE", ""};
      if (served != models->end() && served->second.contains(number))
        state.state = "READY";
      else if (unloaded_.contains(name))
        state.reason = "unloaded";
      else if (const auto f = failed_.find(path); f != failed_.end())
        state.reason = f->second.reason;
      else
        state.reason = "not chosen by the version policy";
      states.push_back(std::move(state));
    }
  }
  return states;
}

}  // namespace axon::serve
