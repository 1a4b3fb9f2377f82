#include "axon/model_spec.h"

#include <cmath>

#include "axon/metric.h"
#include "axon/registry.h"
#include "axon/regular_file.h"

namespace axon {

namespace {

// Layer configs (and graph nodes) in the whole document, counted before any is built.
size_t count_layers(const Config& c) {
  size_t n = 0;
  if (c.kind() == Config::Kind::list)
    for (const Config& item : c.items()) n += count_layers(item);
  if (c.kind() == Config::Kind::object)
    for (const auto& [key, value] : c.entries())
      n += ((key == "layers" || key == "nodes") && value.kind() == Config::Kind::list ? value.size() : 0) +
           count_layers(value);
  return n;
}

LossSpec loss_from(const ConfigReader& f) {
  if (f.value().kind() == Config::Kind::string) return f.named([&] { return LossSpec(f.as_string()); });
  const bool from_logits = f.boolean_or("from_logits", false);
  LossSpec loss = f.named([&] { return LossSpec(f.string("type"), from_logits); });
  f.reject_unknown();
  return loss;
}

Config loss_to(const LossSpec& loss) {
  return loss.from_logits ? Config::object().set("type", loss.name).set("from_logits", true) : Config(loss.name);
}

void compile_from(const ConfigReader& f, Model& model) {
  f.expect_object();
  const ConfigReader optimizer_field = f.at("optimizer");
  std::shared_ptr<Optimizer> optimizer;
  if (optimizer_field.value().kind() == Config::Kind::string)
    optimizer = optimizer_field.named([&] { return axon::optimizer(optimizer_field.as_string()); });
  else
    optimizer = Registry<Optimizer>::instance().create(optimizer_field);
  std::vector<LossSpec> losses;
  const ConfigReader loss = f.at("loss");
  if (loss.value().kind() == Config::Kind::list)
    for (size_t i = 0; i < loss.size(); ++i) losses.push_back(loss_from(loss.element(i)));
  else
    losses.push_back(loss_from(loss));
  std::vector<double> weights;
  if (f.has("loss_weights")) {
    const ConfigReader list = f.at("loss_weights");
    for (size_t i = 0; i < list.size(); ++i) weights.push_back(list.element(i).as_number(0, INFINITY));
  }
  // "metrics": names for every output, or a list of names per output.
  auto metric_list = [](const ConfigReader& list) {
    if (list.value().kind() != Config::Kind::list) list.bad("a list of metric names");
    std::vector<MetricSpec> metrics;
    for (size_t i = 0; i < list.size(); ++i) {
      const ConfigReader name = list.element(i);
      metrics.push_back(name.named([&] { return MetricSpec(name.as_string()); }));
    }
    return metrics;
  };
  std::vector<std::vector<MetricSpec>> per_output;
  std::vector<MetricSpec> shared;
  if (f.has("metrics")) {
    const ConfigReader list = f.at("metrics");
    if (list.value().kind() == Config::Kind::list && list.size() > 0 &&
        list.element(0).value().kind() == Config::Kind::list)
      for (size_t k = 0; k < list.size(); ++k) per_output.push_back(metric_list(list.element(k)));
    else
      shared = metric_list(list);
  }
  f.reject_unknown();
  f.named([&] {
    if (per_output.empty())
      model.compile(optimizer, losses, shared, weights);
    else
      model.compile(optimizer, losses, per_output, weights);
  });
}

Augmentations augmentations_from(const ConfigReader& list) {
  if (list.value().kind() != Config::Kind::list) list.bad("a list of augmentations");
  Augmentations result;
  for (size_t i = 0; i < list.size(); ++i) result.push_back(Registry<Augmentation>::instance().create(list.element(i)));
  return result;
}

}  // namespace

Config layer_config(const Module& layer) {
  Config c = Config::object().set("type", Registry<Module>::instance().name_of(layer));
  if (!layer.name().empty()) c.set("name", layer.name());
  const Config settings = layer.config();
  for (const auto& [key, value] : settings.entries()) c.set(key, value);
  return c;
}

std::shared_ptr<Module> layer_from_config(const ConfigReader& config) {
  if (config.value().kind() != Config::Kind::object) config.bad("a layer object");
  const std::string name = config.string_or("name", "");
  std::shared_ptr<Module> layer = Registry<Module>::instance().create(config);
  if (!name.empty()) config.at("name").named([&] { layer->set_name(name); });
  return layer;
}

ModelSpec parse_spec(const std::string& json_text, const std::string& source, const SpecLimits& limits) {
  if (json_text.size() > limits.max_bytes)
    fail(source, ": the spec is ", json_text.size(), " bytes; the limit is ", limits.max_bytes);
  const Config spec = Config::parse(json_text, source, limits.max_depth);
  try {
    const ConfigReader root(spec, "");
    root.expect_object();
    if (const size_t layers = count_layers(spec); layers > limits.max_layers)
      fail("the spec holds ", layers, " layers; the limit is ", limits.max_layers);
    ModelSpec result;
    if (root.has("augment")) result.augment = augmentations_from(root.at("augment"));
    const bool compile = root.has("compile");
    // The model is the root's own config under "type" (Sequential without one).
    Config model_config = Config::object().set("type", "sequential");
    for (const auto& [key, value] : spec.entries())
      if (key != "compile" && key != "augment") model_config.set(key, value);
    const ConfigReader model_reader(model_config, "");
    std::shared_ptr<Module> made = Registry<Module>::instance().create(model_reader);
    result.model = std::dynamic_pointer_cast<Model>(made);
    if (!result.model) root.at("type").bad("a model type, not the layer '" + made->type_name() + "'");
    if (compile) compile_from(root.at("compile"), *result.model);
    return result;
  } catch (const Error& e) {
    fail(source, ": ", e.what());
  }
}

ModelSpec load_spec(const std::string& path, const SpecLimits& limits) {
  return parse_spec(read_regular_file(path, "", limits.max_bytes), path, limits);
}

std::shared_ptr<Model> model_from_spec(const std::string& json_text, const std::string& source) {
  return parse_spec(json_text, source).model;
}

std::string model_to_spec(const Model& model) {
  Config spec = layer_config(model);
  if (model.compiled()) {
    auto names = [](const std::vector<std::shared_ptr<Metric>>& list) {
      Config out = Config::list();
      for (const auto& metric : list) out.push(metric->name());
      return out;
    };
    Config metrics = Config::list();
    if (model.output_metrics().size() == 1)
      metrics = names(model.metrics());
    else
      for (const auto& list : model.output_metrics()) metrics.push(names(list));
    Config compile = Config::object().set("optimizer", [&] {
      Config optimizer = Config::object().set("type", model.optimizer().name());
      const Config settings = model.optimizer().config();
      for (const auto& [key, value] : settings.entries()) optimizer.set(key, value);
      return optimizer;
    }());
    if (model.losses().size() == 1) {
      compile.set("loss", loss_to(model.loss()));
    } else {
      Config losses = Config::list();
      for (const LossSpec& loss : model.losses()) losses.push(loss_to(loss));
      compile.set("loss", std::move(losses));
    }
    if (!model.loss_weights().empty()) {
      Config weights = Config::list();
      for (double w : model.loss_weights()) weights.push(w);
      compile.set("loss_weights", std::move(weights));
    }
    spec.set("compile", compile.set("metrics", std::move(metrics)));
  }
  return spec.dump(2);
}

}  // namespace axon
