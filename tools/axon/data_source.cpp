#include "data_source.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "axon/packaged_datasets.h"
#include "axon/readers.h"

namespace axon::cli {

namespace {

// Splits "a,b" into exactly two non-empty parts.
std::pair<std::string, std::string> two_paths(const std::string& list, const std::string& source) {
  const size_t comma = list.find(',');
  if (comma == std::string::npos || comma == 0 || comma + 1 == list.size() ||
      list.find(',', comma + 1) != std::string::npos)
    fail("--data ", source, ": expected two comma-separated paths");
  return {list.substr(0, comma), list.substr(comma + 1)};
}

// "a+b+c" -> {"a", "b", "c"}
std::vector<std::string> joined_paths(const std::string& list) {
  std::vector<std::string> paths;
  size_t start = 0;
  for (size_t plus = list.find('+'); plus != std::string::npos; plus = list.find('+', start)) {
    paths.push_back(list.substr(start, plus - start));
    start = plus + 1;
  }
  paths.push_back(list.substr(start));
  return paths;
}

std::vector<Tensor> read_npys(const std::string& list) {
  std::vector<Tensor> tensors;
  for (const std::string& path : joined_paths(list)) tensors.push_back(read_npy(path));
  return tensors;
}

Tensor flattened(const Tensor& x) { return x.rank() == 1 ? x.reshape({x.dim(0), 1}) : x; }

Tensor scaled(Tensor x, std::optional<double> factor) {
  if (!factor || *factor == 1.0) return x;
  Tensor y = x.dtype() == DType::f32 ? x.clone() : x.to(DType::f32);
  float* p = y.data<float>();
  for (int64_t i = 0; i < y.numel(); ++i) p[i] = static_cast<float>(p[i] * *factor);
  return y;
}

// IDX images as (n, pixels), scaled by 1/255 (to [0, 1], as datasets::fashion_mnist
// gives them) unless told otherwise.
Tensor idx_images(const std::string& path, std::optional<double> rescale) {
  Tensor images = scaled(read_idx(path), rescale.value_or(1.0 / 255.0));
  return images.reshape({images.dim(0), images.dim(0) == 0 ? 0 : images.numel() / images.dim(0)});
}

// "1/255", "0.5", "2": a finite, non-zero factor.
double parse_factor(const std::string& text) {
  const auto number = [&](std::string_view part) {
    double value = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (ec != std::errc() || end != part.data() + part.size() || !std::isfinite(value) || value == 0)
      throw CLI::ValidationError("--rescale", "expected a non-zero number or A/B (like 1/255), got '" + text + "'");
    return value;
  };
  const size_t slash = text.find('/');
  if (slash == std::string::npos) return number(text);
  return number(std::string_view(text).substr(0, slash)) / number(std::string_view(text).substr(slash + 1));
}

}  // namespace

void add_rescale_option(CLI::App* command, std::optional<double>& rescale) {
  command
      ->add_option_function<std::string>(
          "--rescale", [&rescale](const std::string& text) { rescale = parse_factor(text); },
          "Multiply every input value by this (1/255, 0.5, ...); default: 1/255 for IDX images, 1 otherwise")
      ->type_name("FACTOR");
}

LabeledData load_labeled(const std::string& source, const std::string& default_split, std::optional<double> rescale) {
  if (source == "fashion-mnist" || source.rfind("fashion-mnist:", 0) == 0) {
    const std::string split = source == "fashion-mnist" ? default_split : source.substr(14);
    if (split != "train" && split != "test") fail("--data ", source, ": the split must be train or test");
    const datasets::ImageData data = datasets::fashion_mnist();  // pixels in [0, 1] already
    return split == "train" ? LabeledData{{scaled(data.x_train, rescale)}, {data.y_train}}
                            : LabeledData{{scaled(data.x_test, rescale)}, {data.y_test}};
  }
  if (source.rfind("idx:", 0) == 0) {
    const auto [images, labels] = two_paths(source.substr(4), source);
    return {{idx_images(images, rescale)}, {read_idx(labels)}};
  }
  if (source.rfind("npy:", 0) == 0) {
    const auto [x, y] = two_paths(source.substr(4), source);
    std::vector<Tensor> inputs = read_npys(x);
    for (Tensor& input : inputs) input = scaled(input, rescale);
    return {inputs, read_npys(y)};
  }
  if (source.rfind("csv:", 0) == 0) {
    std::string path = source.substr(4);
    CsvOptions options;
    if (const size_t query = path.find('?'); query != std::string::npos) {
      const std::string parameter = path.substr(query + 1);
      if (parameter.rfind("label=", 0) != 0) fail("--data ", source, ": expected csv:PATH?label=COLUMN");
      options.label_column = parameter.substr(6);
      path.resize(query);
    }
    const CsvData data = read_csv(path, options);
    return {{scaled(data.x, rescale)}, {data.y}};
  }
  fail("--data ", source,
       ": unknown source; expected fashion-mnist[:train|:test], idx:IMAGES,LABELS, csv:PATH[?label=COL] or npy:X,Y");
}

namespace {

Tensor load_input(const std::string& path, std::optional<double> rescale) {
  auto ends_with = [&](const char* suffix) {
    const std::string s = suffix;
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".npy")) return scaled(flattened(read_npy(path)), rescale);
  if (ends_with(".idx") || ends_with("-ubyte") || ends_with("-ubyte.gz") || ends_with(".idx.gz")) {
    if (!rescale)
      std::fprintf(stderr,
                   "%s: IDX pixels scaled by 1/255 to [0, 1], as training on IDX data does (--rescale 1 keeps them)\n",
                   path.c_str());
    return idx_images(path, rescale);
  }
  if (ends_with(".csv")) {
    // Every column is a feature: read with a dummy label column, then put it back.
    const CsvData data = read_csv(path, {.header = true, .label_column = ""});
    const int64_t n = data.x.dim(0), features = data.x.dim(1) + 1;
    Tensor x = Tensor::empty({n, features});
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t c = 0; c + 1 < features; ++c)
        x.data<float>()[r * features + c] = data.x.data<float>()[r * (features - 1) + c];
      x.data<float>()[r * features + features - 1] = data.y.data<float>()[r];
    }
    return scaled(x, rescale);
  }
  fail("--input ", path, ": expected a .csv, .npy or .idx file");
}

}  // namespace

std::vector<Tensor> load_inputs(const std::string& paths, std::optional<double> rescale) {
  std::vector<Tensor> inputs;
  for (const std::string& path : joined_paths(paths)) inputs.push_back(load_input(path, rescale));
  return inputs;
}

std::vector<Tensor> as_model_input(std::vector<Tensor> xs, const Model& model) {
  const std::vector<Shape> inputs = model.input_shapes();
  if (xs.size() != inputs.size())
    fail("the model takes ", inputs.size(), " inputs, the data holds ", xs.size(),
         " (give one file per input, joined by '+')");
  for (size_t i = 0; i < xs.size(); ++i) {
    Tensor& x = xs[i];
    if (x.rank() < 1 || x.numel() != x.dim(0) * inputs[i].numel()) continue;  // the model reports the mismatch
    std::vector<int64_t> dims = inputs[i].dims();
    dims.insert(dims.begin(), x.dim(0));
    x = x.reshape(dims);
  }
  return xs;
}

}  // namespace axon::cli
