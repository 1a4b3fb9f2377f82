#include "model_table.h"

#include <charconv>

#include "http_error.h"

namespace axon::serve {

std::optional<int64_t> requested_version(const std::string& text) {
  if (text.empty()) return std::nullopt;
  int64_t version = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version < 1)
    throw HttpError(404, "no version '" + text + "' (versions are positive integers)");
  return version;
}

std::shared_ptr<const ModelTable::Models> ModelTable::snapshot() const {
  std::lock_guard lock(mutex_);
  return models_;
}

std::shared_ptr<ServedVersion> ModelTable::find(const std::string& name, std::optional<int64_t> version) const {
  return find(*snapshot(), name, version);
}

const ModelTable::Versions& ModelTable::versions(const Models& models, const std::string& name) {
  const auto it = models.find(name);
  if (it == models.end() || it->second.empty()) throw HttpError(404, "unknown model '" + name + "'");
  return it->second;
}

std::shared_ptr<ServedVersion> ModelTable::find(const Models& models, const std::string& name,
                                                std::optional<int64_t> version) {
  const Versions& all = versions(models, name);
  if (!version) return all.begin()->second;
  const auto v = all.find(*version);
  if (v == all.end())
    throw HttpError(404, "model '" + name + "' has no version " + std::to_string(*version) + " loaded");
  return v->second;
}

void ModelTable::set(const std::string& name, Versions versions) {
  std::lock_guard lock(mutex_);
  auto models = std::make_shared<Models>(*models_);
  if (const auto old = models->find(name); old != models->end())
    for (const auto& [number, served] : old->second)
      if (!versions.contains(number) || versions.at(number) != served) retired_.push_back(served);
  if (versions.empty())
    models->erase(name);
  else
    (*models)[name] = std::move(versions);
  models_ = std::move(models);
}

void ModelTable::reap() {
  std::vector<std::shared_ptr<ServedVersion>> unused;
  {
    std::lock_guard lock(mutex_);
    std::erase_if(retired_, [&](std::shared_ptr<ServedVersion>& served) {
      if (served.use_count() > 1) return false;
      unused.push_back(std::move(served));
      return true;
    });
  }
  // Destroyed here, outside the lock: each batcher finishes its queue and joins its thread.
}

}  // namespace axon::serve
