#pragma once
// The JSON model spec: a model's architecture and, optionally, how to compile it and
// how to augment its training data. The architecture is the model's own config (see
// config.h) under its registered "type": "sequential" (the default), "functional", or
// any registered model.
//   {"input_shape": [784],
//    "layers": [{"type": "dense", "units": 256, "activation": "relu"},
//               {"type": "dropout", "rate": 0.2},
//               {"type": "dense", "units": 10, "activation": "softmax"}],
//    "compile": {"optimizer": {"type": "adam", "learning_rate": 0.001},
//                "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
//    "augment": [{"type": "random_flip", "mode": "horizontal"},
//                {"type": "random_translation", "pixels": 2}]}
// A functional spec: {"type": "functional", "inputs": [{"name": "a", "shape": [16]}],
//   "layers": [{"type": "dense", "name": "d", "units": 4}], "nodes": [{"layer": "d",
//   "inputs": ["a"]}], "outputs": ["d"]}; with several outputs "loss" may be a list, one
// per output, and "loss_weights" a list of numbers.
// "augment" (optional) is for training (axon train); the model itself never holds it.
// Errors name the field: "layers[1].rate: expected a number in [0, 1), got 1.5".
#include <memory>
#include <string>

#include "axon/augmentation.h"
#include "axon/model.h"

namespace axon {

// What a spec may hold, checked before anything is built from it.
struct SpecLimits {
  size_t max_bytes = 16 << 20;  // of the JSON text
  int max_depth = 64;           // nesting of objects and lists
  size_t max_layers = 10000;    // layers (and graph nodes) in the whole spec
};

struct ModelSpec {
  std::shared_ptr<Model> model;  // built when the spec gives the input shape(s); compiled with "compile"
  Augmentations augment;         // the "augment" list (empty without one)
};

// `source` names the spec in errors (a file name).
ModelSpec parse_spec(const std::string& json_text, const std::string& source = "spec", const SpecLimits& limits = {});
ModelSpec load_spec(const std::string& path, const SpecLimits& limits = {});
std::shared_ptr<Model> model_from_spec(const std::string& json_text, const std::string& source = "spec");

// The spec of a model (architecture, and compile settings if compiled). Every setting
// of every layer is written, so parse_spec rebuilds it. Fails naming a layer or model
// type that is not registered.
std::string model_to_spec(const Model& model);

// One layer's config with its registered "type" (and "name" when it has one), and the
// layer such a config describes: the building blocks of model configs.
Config layer_config(const Module& layer);
std::shared_ptr<Module> layer_from_config(const ConfigReader& config);

}  // namespace axon
