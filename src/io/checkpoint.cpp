#include "axon/checkpoint.h"

#include <functional>
#include <limits>
#include <set>
#include <sstream>

#include "axon/model_file.h"
#include "axon/model_spec.h"
#include "model_tensors.h"

namespace axon {

namespace {

// Visits every module below `module` with its path ("layers.1"), each once (a shared
// layer may hang under several paths: the first one names it).
void for_each_module(const Module& module, const std::string& prefix, std::set<const Module*>& seen,
                     const std::function<void(const std::string&, Module&)>& visit) {
  for (const auto& [name, child] : module.children()) {
    if (!seen.insert(child.get()).second) continue;
    const std::string path = prefix.empty() ? name : prefix + "." + name;
    visit(path, *child);
    for_each_module(*child, path, seen, visit);
  }
}

// Saves (or loads) every module's non-weight state as "axon.state.<path>.<key>".
void exchange_state(const Model& model, std::map<std::string, std::string>& metadata, bool loading) {
  std::set<const Module*> seen;
  for_each_module(model, "", seen, [&](const std::string& path, Module& module) {
    StateArchive archive(metadata, loading, "axon.state." + path + ".");
    module.state(archive);
  });
}

// Names of the optimizer's parameters: the trainable parameters, in the same order.
std::vector<std::string> optimizer_parameter_names(const Model& model) {
  std::vector<std::string> names;
  for (const NamedParameter& p : model.named_parameters())
    if (p.trainable) names.push_back(p.name);
  if (names.size() != model.optimizer().parameters().size())
    fail("checkpoint: the optimizer tracks ", model.optimizer().parameters().size(), " parameters, the model has ",
         names.size());
  return names;
}

const std::string& metadata_at(const SafetensorsFile& file, const std::string& key, const std::string& path) {
  const auto it = file.metadata.find(key);
  if (it == file.metadata.end()) fail(path, ": not a checkpoint (no ", key, " in its metadata)");
  return it->second;
}

int64_t metadata_integer(const SafetensorsFile& file, const std::string& key, const std::string& path) {
  const std::string& text = metadata_at(file, key, path);
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    fail(path, ": ", key, " is not a count: '", text, "'");
  return std::stoll(text);
}

}  // namespace

void save_checkpoint(const Model& model, const std::string& path, int epochs_done) {
  if (!model.built() || !model.compiled()) fail("save_checkpoint: the model must be built and compiled");
  std::vector<NamedTensor> tensors = io::parameters_of(model);
  Optimizer& optimizer = model.optimizer();
  const std::vector<std::string> names = optimizer_parameter_names(model);
  for (size_t i = 0; i < names.size(); ++i)
    for (const auto& [slot, value] : optimizer.state(i))
      tensors.push_back({"optimizer." + slot + "." + names[i], value});
  // The slots each parameter holds ("m,v" for Adam once it has stepped), so a restore
  // can tell a file that lost all of them from an optimizer that has none.
  std::string slots;
  if (!names.empty())
    for (const auto& [slot, value] : optimizer.state(0)) slots += (slots.empty() ? "" : ",") + slot;
  std::map<std::string, std::string> metadata = {{"axon.format_version", io::kFormatVersion},
                                                 {"axon.checkpoint.slots", slots},
                                                 {"axon.checkpoint.epoch", std::to_string(epochs_done)},
                                                 {"axon.checkpoint.step", std::to_string(optimizer.step_count())},
                                                 {"axon.checkpoint.optimizer", optimizer.name()}};
  try {
    metadata["axon.model"] = model_to_spec(model);
  } catch (const Error&) {  // an unregistered (subclassed) model: its weights and state still resume
  }
  exchange_state(model, metadata, false);
  save_safetensors(path, tensors, metadata);
}

int restore_checkpoint(Model& model, const std::string& path) {
  if (!model.built() || !model.compiled()) fail("restore_checkpoint: build and compile the model first");
  const SafetensorsFile file = load_safetensors(path);
  io::check_format_version(file, path);
  const int64_t epoch = metadata_integer(file, "axon.checkpoint.epoch", path);
  const int64_t step = metadata_integer(file, "axon.checkpoint.step", path);
  Optimizer& optimizer = model.optimizer();
  if (metadata_at(file, "axon.checkpoint.optimizer", path) != optimizer.name())
    fail(path, ": saved with optimizer '", metadata_at(file, "axon.checkpoint.optimizer", path), "', the model uses '",
         optimizer.name(), "'");
  io::restore_parameters(model, file, path);

  // Optimizer slots: "optimizer.<slot>.<parameter name>".
  const std::vector<std::string> names = optimizer_parameter_names(model);
  for (size_t i = 0; i < names.size(); ++i) optimizer.state(i).clear();
  for (const NamedTensor& t : file.tensors) {
    if (t.name.rfind("optimizer.", 0) != 0) continue;
    const std::string rest = t.name.substr(10);
    const size_t dot = rest.find('.');
    const std::string slot = rest.substr(0, dot), parameter = dot == std::string::npos ? "" : rest.substr(dot + 1);
    const auto it = std::find(names.begin(), names.end(), parameter);
    if (it == names.end()) fail(path, ": optimizer state '", t.name, "' names no parameter of the model");
    const size_t i = static_cast<size_t>(it - names.begin());
    if (t.tensor.shape() != optimizer.parameters()[i].shape())
      fail(path, ": optimizer state '", t.name, "' has shape ", t.tensor.shape(), ", its parameter ",
           optimizer.parameters()[i].shape());
    optimizer.state(i)[slot] = t.tensor.clone();
  }
  // Every parameter has the same slots (an update creates them all): one missing means
  // a damaged file, which would otherwise resume silently from zeros.
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t j = 0; j < names.size(); ++j)
      for (const auto& [slot, value] : optimizer.state(j))
        if (!optimizer.state(i).contains(slot))
          fail(path, ": optimizer state 'optimizer.", slot, ".", names[i], "' is missing");
  if (const auto listed = file.metadata.find("axon.checkpoint.slots");
      listed != file.metadata.end() && !names.empty()) {
    std::istringstream slots(listed->second);
    for (std::string slot; std::getline(slots, slot, ',');)
      if (!optimizer.state(0).contains(slot))
        fail(path, ": optimizer state 'optimizer.", slot, ".", names[0], "' is missing");
  }
  optimizer.set_step_count(step);
  std::map<std::string, std::string> metadata = file.metadata;
  try {
    exchange_state(model, metadata, true);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  if (epoch > std::numeric_limits<int>::max()) fail(path, ": epoch count ", epoch, " is out of range");
  return static_cast<int>(epoch);
}

}  // namespace axon
