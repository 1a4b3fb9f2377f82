#include "axon/model_spec.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "axon/batch_normalization.h"
#include "axon/conv1d.h"
#include "axon/conv2d.h"
#include "axon/dense.h"
#include "axon/dropout.h"
#include "axon/metric.h"
#include "axon/pooling.h"
#include "axon/reshape.h"

namespace axon {

namespace {

using json = nlohmann::ordered_json;

// A JSON value with its path, for error messages that name the field.
class Field {
 public:
  Field(const json& value, std::string path) : value_(value), path_(std::move(path)) {}

  const json& value() const { return value_; }
  const std::string& path() const { return path_; }
  bool has(const char* key) const { return value_.contains(key) && !value_.at(key).is_null(); }
  Field at(const char* key) const {
    if (!value_.contains(key)) fail(child(key), ": missing");
    return {value_.at(key), child(key)};
  }
  Field element(size_t i) const { return {value_.at(i), path_ + "[" + std::to_string(i) + "]"}; }

  [[noreturn]] void bad(const std::string& expected) const { fail(path_, ": expected ", expected, ", got ", value_.dump()); }

  void expect_object(std::initializer_list<const char*> allowed) const {
    if (!value_.is_object()) bad("an object");
    for (const auto& [key, unused] : value_.items()) {
      bool known = false;
      std::string names;
      for (const char* name : allowed) {
        known = known || key == name;
        names += (names.empty() ? "" : ", ") + std::string(name);
      }
      if (!known) fail(child(key.c_str()), ": unknown field; expected one of: ", names);
    }
  }
  double number(double low, double high, bool high_open = false) const {
    if (!value_.is_number()) bad(range_text(low, high, high_open));
    const double v = value_.get<double>();
    if (!(v >= low) || v > high || (high_open && v == high)) bad(range_text(low, high, high_open));
    return v;
  }
  int64_t integer(int64_t low) const {
    if (!value_.is_number_integer() || value_.get<int64_t>() < low) bad("an integer >= " + std::to_string(low));
    return value_.get<int64_t>();
  }
  bool boolean() const {
    if (!value_.is_boolean()) bad("true or false");
    return value_.get<bool>();
  }
  std::string string() const {
    if (!value_.is_string()) bad("a string");
    return value_.get<std::string>();
  }
  // Runs `make` and prefixes any Error it throws with this field's path.
  template <class F>
  auto named(F&& make) const {
    try {
      return make();
    } catch (const Error& e) {
      fail(path_, ": ", e.what());
    }
  }

 private:
  std::string child(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  static std::string range_text(double low, double high, bool high_open) {
    std::ostringstream text;
    text << "a number in [" << low << ", " << high << (high_open ? ")" : "]");
    return text.str();
  }

  const json& value_;
  std::string path_;
};

constexpr double kInf = INFINITY;

Initializer initializer_from(const Field& f) {
  if (f.value().is_string()) return f.named([&] { return Initializer::from_name(f.string()); });
  f.expect_object({"type", "value"});
  const std::string type = f.at("type").string();
  if (type != "constant") return f.named([&] { return Initializer::from_name(type); });
  return Initializer::constant(f.at("value").number(-kInf, kInf));
}

json initializer_to(const Initializer& init) {
  if (init.kind() == Initializer::Kind::constant) return {{"type", "constant"}, {"value", init.value()}};
  return init.name();
}

Regularizer regularizer_from(const Field& f) {
  f.expect_object({"l1", "l2"});
  return {f.has("l1") ? f.at("l1").number(0, kInf) : 0.0, f.has("l2") ? f.at("l2").number(0, kInf) : 0.0};
}

json regularizer_to(const Regularizer& r) { return r.active() ? json{{"l1", r.l1}, {"l2", r.l2}} : json(nullptr); }

// An integer n (meaning {n, n}) or a list of two integers >= low.
std::array<int64_t, 2> pair_from(const Field& f, int64_t low) {
  if (f.value().is_number_integer()) {
    const int64_t n = f.integer(low);
    return {n, n};
  }
  if (!f.value().is_array() || f.value().size() != 2) f.bad("an integer or a list of two integers >= " + std::to_string(low));
  return {f.element(0).integer(low), f.element(1).integer(low)};
}

Padding padding_from(const Field& f) {
  if (f.value().is_string()) return f.named([&] { return Padding(f.string()); });
  if (!f.value().is_array() || f.value().size() != 4) f.bad("\"valid\", \"same\" or [top, bottom, left, right]");
  return Padding(std::array<int64_t, 4>{f.element(0).integer(0), f.element(1).integer(0), f.element(2).integer(0), f.element(3).integer(0)});
}

json padding_to(const Padding& p) { return p.mode == "explicit" ? json(p.pads) : json(p.mode); }

// The settings Dense and Conv2D share: bias, initializers, regularizers, seed.
template <class Options>
void weights_from(const Field& f, Options& options) {
  if (f.has("use_bias")) options.use_bias = f.at("use_bias").boolean();
  if (f.has("kernel_initializer")) options.kernel_initializer = initializer_from(f.at("kernel_initializer"));
  if (f.has("bias_initializer")) options.bias_initializer = initializer_from(f.at("bias_initializer"));
  if (f.has("kernel_regularizer")) options.kernel_regularizer = regularizer_from(f.at("kernel_regularizer"));
  if (f.has("bias_regularizer")) options.bias_regularizer = regularizer_from(f.at("bias_regularizer"));
  if (f.has("seed")) options.seed = static_cast<uint64_t>(f.at("seed").integer(0));
}

template <class Options>
void weights_to(json& j, const Options& o) {
  j["use_bias"] = o.use_bias;
  j["kernel_initializer"] = initializer_to(o.kernel_initializer);
  j["bias_initializer"] = initializer_to(o.bias_initializer);
  j["kernel_regularizer"] = regularizer_to(o.kernel_regularizer);
  j["bias_regularizer"] = regularizer_to(o.bias_regularizer);
  if (o.seed) j["seed"] = *o.seed;
}

std::shared_ptr<Module> layer_from(const Field& f) {
  if (!f.value().is_object()) f.bad("a layer object");
  const std::string type = f.at("type").string();
  if (type == "dense") {
    f.expect_object({"type", "units", "activation", "use_bias", "kernel_initializer", "bias_initializer",
                     "kernel_regularizer", "bias_regularizer", "seed"});
    DenseOptions options;
    weights_from(f, options);
    const int64_t units = f.at("units").integer(1);
    const std::string activation_name = f.has("activation") ? f.at("activation").string() : "linear";
    return f.named([&] { return std::make_shared<Dense>(units, activation_name, options); });
  }
  if (type == "dropout") {
    f.expect_object({"type", "rate", "seed"});
    std::optional<uint64_t> seed;
    if (f.has("seed")) seed = static_cast<uint64_t>(f.at("seed").integer(0));
    return std::make_shared<Dropout>(f.at("rate").number(0, 1, true), seed);
  }
  if (type == "activation") {
    f.expect_object({"type", "activation"});
    const Field name = f.at("activation");
    return name.named([&] { return std::make_shared<Activation>(name.string()); });
  }
  if (type == "conv2d") {
    f.expect_object({"type", "filters", "kernel_size", "strides", "padding", "dilation", "activation", "use_bias",
                     "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer", "seed"});
    Conv2DOptions options;
    if (f.has("strides")) options.strides = pair_from(f.at("strides"), 1);
    if (f.has("padding")) options.padding = padding_from(f.at("padding"));
    if (f.has("dilation")) options.dilation = pair_from(f.at("dilation"), 1);
    weights_from(f, options);
    const int64_t filters = f.at("filters").integer(1);
    const auto kernel = pair_from(f.at("kernel_size"), 1);
    const std::string activation_name = f.has("activation") ? f.at("activation").string() : "linear";
    return f.named([&] { return std::make_shared<Conv2D>(filters, kernel, activation_name, options); });
  }
  if (type == "conv1d") {
    f.expect_object({"type", "filters", "kernel_size", "strides", "padding", "dilation", "activation", "use_bias",
                     "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer", "seed"});
    Conv1DOptions options;
    if (f.has("strides")) options.strides = f.at("strides").integer(1);
    if (f.has("padding")) options.padding = f.at("padding").string();
    if (f.has("dilation")) options.dilation = f.at("dilation").integer(1);
    weights_from(f, options);
    const int64_t filters = f.at("filters").integer(1), kernel = f.at("kernel_size").integer(1);
    const std::string activation_name = f.has("activation") ? f.at("activation").string() : "linear";
    return f.named([&] { return std::make_shared<Conv1D>(filters, kernel, activation_name, options); });
  }
  if (type == "max_pool2d" || type == "average_pool2d") {
    f.expect_object({"type", "pool_size", "strides", "padding"});
    const auto size = f.has("pool_size") ? pair_from(f.at("pool_size"), 1) : std::array<int64_t, 2>{2, 2};
    std::optional<std::array<int64_t, 2>> strides;
    if (f.has("strides")) strides = pair_from(f.at("strides"), 1);
    const Padding padding = f.has("padding") ? padding_from(f.at("padding")) : Padding("valid");
    if (type == "max_pool2d") return std::make_shared<MaxPool2D>(size, strides, padding);
    return std::make_shared<AveragePool2D>(size, strides, padding);
  }
  if (type == "batch_normalization") {
    f.expect_object({"type", "momentum", "epsilon"});
    const double momentum = f.has("momentum") ? f.at("momentum").number(0, 1, true) : 0.99;
    const double epsilon = f.has("epsilon") ? f.at("epsilon").number(1e-12, 1) : 1e-3;
    return std::make_shared<BatchNormalization>(momentum, epsilon);
  }
  if (type == "global_average_pool2d") {
    f.expect_object({"type"});
    return std::make_shared<GlobalAveragePool2D>();
  }
  if (type == "flatten") {
    f.expect_object({"type"});
    return std::make_shared<Flatten>();
  }
  if (type == "reshape") {
    f.expect_object({"type", "target_shape"});
    const Field target = f.at("target_shape");
    if (!target.value().is_array() || target.value().empty()) target.bad("a non-empty list of dimensions");
    std::vector<int64_t> dims;
    for (size_t i = 0; i < target.value().size(); ++i) dims.push_back(target.element(i).value() == -1 ? -1 : target.element(i).integer(1));
    return target.named([&] { return std::make_shared<Reshape>(dims); });
  }
  f.at("type").bad("one of: dense, dropout, activation, conv1d, conv2d, max_pool2d, average_pool2d, global_average_pool2d, flatten, reshape, "
                   "batch_normalization");
}

json layer_to(const Module& layer) {
  if (const auto* dense = dynamic_cast<const Dense*>(&layer)) {
    const DenseOptions& o = dense->options();
    json j = {{"type", "dense"}, {"units", dense->units()}, {"activation", dense->activation_name()}};
    weights_to(j, o);
    return j;
  }
  if (const auto* dropout = dynamic_cast<const Dropout*>(&layer)) {
    json j = {{"type", "dropout"}, {"rate", dropout->rate()}};
    if (dropout->seed()) j["seed"] = *dropout->seed();
    return j;
  }
  if (const auto* activation = dynamic_cast<const Activation*>(&layer)) return {{"type", "activation"}, {"activation", activation->name()}};
  if (const auto* conv = dynamic_cast<const Conv2D*>(&layer)) {
    const Conv2DOptions& o = conv->options();
    json j = {{"type", "conv2d"}, {"filters", conv->filters()}, {"kernel_size", conv->kernel_size()}, {"strides", o.strides},
              {"padding", padding_to(o.padding)}, {"dilation", o.dilation}, {"activation", conv->activation_name()}};
    weights_to(j, o);
    return j;
  }
  if (const auto* conv = dynamic_cast<const Conv1D*>(&layer)) {
    const Conv1DOptions& o = conv->options();
    json j = {{"type", "conv1d"}, {"filters", conv->filters()}, {"kernel_size", conv->kernel_size()}, {"strides", o.strides},
              {"padding", o.padding}, {"dilation", o.dilation}, {"activation", conv->activation_name()}};
    weights_to(j, o);
    return j;
  }
  if (const auto* pool = dynamic_cast<const Pool2D*>(&layer))
    return {{"type", pool->kind() == Pool2D::Kind::max ? "max_pool2d" : "average_pool2d"}, {"pool_size", pool->pool_size()},
            {"strides", pool->strides()}, {"padding", padding_to(pool->padding())}};
  if (dynamic_cast<const GlobalAveragePool2D*>(&layer)) return {{"type", "global_average_pool2d"}};
  if (const auto* bn = dynamic_cast<const BatchNormalization*>(&layer))
    return {{"type", "batch_normalization"}, {"momentum", bn->momentum()}, {"epsilon", bn->epsilon()}};
  if (dynamic_cast<const Flatten*>(&layer)) return {{"type", "flatten"}};
  if (const auto* reshape_layer = dynamic_cast<const Reshape*>(&layer)) return {{"type", "reshape"}, {"target_shape", reshape_layer->target_shape()}};
  fail("model spec: layer type '", layer.type_name(), "' cannot be written to a spec");
}

std::shared_ptr<Optimizer> optimizer_from(const Field& f) {
  if (f.value().is_string()) return f.named([&] { return std::shared_ptr<Optimizer>(optimizer(f.string())); });
  const std::string type = f.at("type").string();
  auto get = [&](const char* key, double fallback, double low, double high, bool open = false) {
    return f.has(key) ? f.at(key).number(low, high, open) : fallback;
  };
  const double lr = f.has("learning_rate") ? f.at("learning_rate").number(0, kInf) : -1;
  auto rate = [&](double fallback) { return lr >= 0 ? lr : fallback; };
  if (type == "sgd") {
    f.expect_object({"type", "learning_rate", "momentum", "nesterov"});
    const bool nesterov = f.has("nesterov") && (f.at("nesterov").value().is_boolean() ? f.at("nesterov").boolean() : f.at("nesterov").number(0, 1) != 0);
    return f.named([&] { return std::make_shared<SGD>(rate(0.01), get("momentum", 0, 0, 1), nesterov); });
  }
  if (type == "adam" || type == "adamw") {
    f.expect_object({"type", "learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay"});
    const double b1 = get("beta_1", 0.9, 0, 1, true), b2 = get("beta_2", 0.999, 0, 1, true), eps = get("epsilon", 1e-7, 0, 1);
    if (type == "adam") {
      if (f.has("weight_decay")) f.at("weight_decay").bad("no weight_decay for adam (use adamw)");
      return std::make_shared<Adam>(rate(0.001), b1, b2, eps);
    }
    return std::make_shared<AdamW>(rate(0.001), get("weight_decay", 0.01, 0, 1), b1, b2, eps);
  }
  if (type == "rmsprop") {
    f.expect_object({"type", "learning_rate", "rho", "momentum", "epsilon"});
    return std::make_shared<RMSprop>(rate(0.001), get("rho", 0.9, 0, 1), get("momentum", 0, 0, 1), get("epsilon", 1e-7, 0, 1));
  }
  if (type == "adagrad") {
    f.expect_object({"type", "learning_rate", "initial_accumulator_value", "epsilon"});
    return std::make_shared<Adagrad>(rate(0.001), get("initial_accumulator_value", 0.1, 0, kInf), get("epsilon", 1e-7, 0, 1));
  }
  f.at("type").bad("one of: sgd, adam, adamw, rmsprop, adagrad");
}

json optimizer_to(const Optimizer& optimizer) {
  json j = {{"type", optimizer.name()}, {"learning_rate", optimizer.learning_rate()}};
  for (const auto& [key, value] : optimizer.hyperparameters()) {
    if (key == "nesterov") j[key] = value != 0;
    else j[key] = value;
  }
  return j;
}

}  // namespace

namespace {

std::string read_spec(const std::string& path) {
  std::ifstream file(path);
  if (!file) fail(path, ": cannot open the model spec");
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

json parse_spec(const std::string& json_text, const std::string& source) {
  try {
    return json::parse(json_text);
  } catch (const json::exception& e) {
    fail(source, ": not valid JSON: ", e.what());
  }
}

Augmentations augmentations_from(const Field& root) {
  Augmentations result;
  if (!root.has("augment")) return result;
  const Field list = root.at("augment");
  if (!list.value().is_array()) list.bad("a list of augmentations");
  for (size_t i = 0; i < list.value().size(); ++i) {
    const Field f = list.element(i);
    const std::string type = f.at("type").string();
    if (type == "random_flip") {
      f.expect_object({"type", "mode"});
      const std::string mode = f.has("mode") ? f.at("mode").string() : "horizontal";
      result.push_back(f.named([&] { return std::make_shared<RandomFlip>(mode); }));
    } else if (type == "random_translation") {
      f.expect_object({"type", "pixels"});
      result.push_back(std::make_shared<RandomTranslation>(f.at("pixels").integer(0)));
    } else {
      f.at("type").bad("one of: random_flip, random_translation");
    }
  }
  return result;
}

}  // namespace

std::unique_ptr<Sequential> model_from_spec(const std::string& json_text, const std::string& source) {
  const json spec = parse_spec(json_text, source);
  try {
    const Field root(spec, "");
    root.expect_object({"input_shape", "layers", "compile", "augment"});
    augmentations_from(root);  // checked here too, so a bad list fails wherever the spec is read
    const Field layers = root.at("layers");
    if (!layers.value().is_array() || layers.value().empty()) layers.bad("a non-empty list of layers");
    std::unique_ptr<Sequential> model = std::make_unique<Sequential>();
    for (size_t i = 0; i < layers.value().size(); ++i) model->add_layer(layer_from(layers.element(i)));
    if (root.has("input_shape")) {
      const Field shape = root.at("input_shape");
      if (!shape.value().is_array() || shape.value().empty()) shape.bad("a non-empty list of dimensions");
      std::vector<int64_t> dims;
      for (size_t i = 0; i < shape.value().size(); ++i) dims.push_back(shape.element(i).integer(1));
      model->build(Shape(dims));
    }
    if (root.has("compile")) {
      const Field compile = root.at("compile");
      compile.expect_object({"optimizer", "loss", "metrics"});
      std::shared_ptr<Optimizer> optimizer = optimizer_from(compile.at("optimizer"));
      const Field loss = compile.at("loss");
      LossSpec loss_spec = loss.value().is_string() ? loss.named([&] { return LossSpec(loss.string()); }) : [&] {
        loss.expect_object({"type", "from_logits"});
        const bool from_logits = loss.has("from_logits") && loss.at("from_logits").boolean();
        return loss.named([&] { return LossSpec(loss.at("type").string(), from_logits); });
      }();
      std::vector<MetricSpec> metrics;
      if (compile.has("metrics")) {
        const Field list = compile.at("metrics");
        if (!list.value().is_array()) list.bad("a list of metric names");
        for (size_t i = 0; i < list.value().size(); ++i) {
          const Field name = list.element(i);
          metrics.push_back(name.named([&] { return MetricSpec(name.string()); }));
        }
      }
      model->compile(optimizer, loss_spec, metrics);
    }
    return model;
  } catch (const Error& e) {
    fail(source, ": ", e.what());
  }
}

Augmentations augmentations_from_spec(const std::string& json_text, const std::string& source) {
  const json spec = parse_spec(json_text, source);
  try {
    return augmentations_from(Field(spec, ""));
  } catch (const Error& e) {
    fail(source, ": ", e.what());
  }
}

std::unique_ptr<Sequential> load_spec(const std::string& path) { return model_from_spec(read_spec(path), path); }

Augmentations load_augmentations(const std::string& spec_path) { return augmentations_from_spec(read_spec(spec_path), spec_path); }

std::string model_to_spec(const Sequential& model) {
  json spec;
  if (model.input_shape()) spec["input_shape"] = model.input_shape()->dims();
  spec["layers"] = json::array();
  for (const auto& [name, layer] : model.children()) spec["layers"].push_back(layer_to(*layer));
  if (model.compiled()) {
    const LossSpec& loss = model.loss();
    json metrics = json::array();
    for (const auto& metric : model.metrics()) metrics.push_back(metric->name());
    spec["compile"] = {{"optimizer", optimizer_to(model.optimizer())},
                       {"loss", loss.from_logits ? json{{"type", loss.name}, {"from_logits", true}} : json(loss.name)},
                       {"metrics", metrics}};
  }
  return spec.dump(2);
}

}  // namespace axon
