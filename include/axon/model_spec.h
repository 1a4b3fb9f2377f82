#pragma once
// The JSON model spec: a Sequential model's layers and, optionally, how to compile it.
//   {"input_shape": [784],
//    "layers": [{"type": "dense", "units": 256, "activation": "relu"},
//               {"type": "dropout", "rate": 0.2},
//               {"type": "dense", "units": 10, "activation": "softmax"}],
//    "compile": {"optimizer": {"type": "adam", "learning_rate": 0.001},
//                "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
//    "augment": [{"type": "random_flip", "mode": "horizontal"},
//                {"type": "random_translation", "pixels": 2}]}
// "augment" (optional) is for training (axon train); the model itself never holds it.
// Errors name the field: "layers[1].rate: expected a number in [0, 1), got 1.5".
#include <memory>
#include <string>

#include "axon/sequential.h"

namespace axon {

// Builds (and, with "compile", compiles) the model the spec describes. `source` names
// the spec in errors (a file name).
std::unique_ptr<Sequential> model_from_spec(const std::string& json_text, const std::string& source = "spec");
std::unique_ptr<Sequential> load_spec(const std::string& path);
// The spec's "augment" list (empty without one).
Augmentations augmentations_from_spec(const std::string& json_text, const std::string& source = "spec");
Augmentations load_augmentations(const std::string& spec_path);

// The spec of a Sequential model (input shape, layers, and compile settings if
// compiled). Every setting of every layer is written, so model_from_spec rebuilds it.
std::string model_to_spec(const Sequential& model);

}  // namespace axon
