#pragma once
// --data / --input sources of the axon CLI:
//   fashion-mnist[:train|:test]   Debian's dataset-fashion-mnist
//   idx:IMAGES,LABELS             IDX files (plain or .gz); pixels scaled by 1/255 unless --rescale says otherwise
//   csv:PATH[?label=COLUMN]       a CSV with a header; label column by name or index (default: last)
//   npy:X,Y                       two NPY files; a model of several inputs (outputs) takes
//                                 one file per input (output) joined by '+': npy:A+B,Y1+Y2
#include <optional>
#include <string>
#include <vector>

#include "axon/model.h"
#include "axon/tensor.h"

namespace CLI {
class App;
}

namespace axon::cli {

// --rescale FACTOR: every input value is multiplied by FACTOR ("1/255" or a number).
// Without it IDX images are scaled by 1/255 (8-bit pixels to [0, 1], as
// datasets::fashion_mnist gives them) and CSV and NPY inputs are taken as they are.
void add_rescale_option(CLI::App* command, std::optional<double>& rescale);

struct LabeledData {
  std::vector<Tensor> x;  // per model input: (n, features...) float32
  std::vector<Tensor> y;  // per model output: (n,) or (n, k)
};

// `default_split` is used when a fashion-mnist source names none.
LabeledData load_labeled(const std::string& source, const std::string& default_split,
                         std::optional<double> rescale = std::nullopt);
// Inputs only, for predict: a .csv (all columns are features), .npy or .idx file; for a
// model of several inputs, one file per input joined by '+'.
std::vector<Tensor> load_inputs(const std::string& paths, std::optional<double> rescale = std::nullopt);

// Each x laid out as the model's input when each row holds the same number of values:
// (n, 784) pixels -> (n, 1, 28, 28) for a model built for (1, 28, 28) images.
std::vector<Tensor> as_model_input(std::vector<Tensor> xs, const Model& model);

}  // namespace axon::cli
