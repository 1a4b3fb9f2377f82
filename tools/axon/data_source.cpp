#include "data_source.h"

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

// IDX images as (n, pixels) scaled to [0, 1], as datasets::fashion_mnist gives them.
Tensor idx_images(const std::string& path) {
  Tensor images = read_idx(path);
  float* p = images.data<float>();
  for (int64_t i = 0; i < images.numel(); ++i) p[i] /= 255.0f;
  return images.reshape({images.dim(0), images.dim(0) == 0 ? 0 : images.numel() / images.dim(0)});
}

}  // namespace

LabeledData load_labeled(const std::string& source, const std::string& default_split) {
  if (source == "fashion-mnist" || source.rfind("fashion-mnist:", 0) == 0) {
    const std::string split = source == "fashion-mnist" ? default_split : source.substr(14);
    if (split != "train" && split != "test") fail("--data ", source, ": the split must be train or test");
    const datasets::ImageData data = datasets::fashion_mnist();
    return split == "train" ? LabeledData{{data.x_train}, {data.y_train}} : LabeledData{{data.x_test}, {data.y_test}};
  }
  if (source.rfind("idx:", 0) == 0) {
    const auto [images, labels] = two_paths(source.substr(4), source);
    return {{idx_images(images)}, {read_idx(labels)}};
  }
  if (source.rfind("npy:", 0) == 0) {
    const auto [x, y] = two_paths(source.substr(4), source);
    return {read_npys(x), read_npys(y)};
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
    return {{data.x}, {data.y}};
  }
  fail("--data ", source,
       ": unknown source; expected fashion-mnist[:train|:test], idx:IMAGES,LABELS, csv:PATH[?label=COL] or npy:X,Y");
}

namespace {

Tensor load_input(const std::string& path) {
  auto ends_with = [&](const char* suffix) {
    const std::string s = suffix;
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".npy")) return flattened(read_npy(path));
  if (ends_with(".idx") || ends_with("-ubyte") || ends_with("-ubyte.gz") || ends_with(".idx.gz"))
    return idx_images(path);
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
    return x;
  }
  fail("--input ", path, ": expected a .csv, .npy or .idx file");
}

}  // namespace

std::vector<Tensor> load_inputs(const std::string& paths) {
  std::vector<Tensor> inputs;
  for (const std::string& path : joined_paths(paths)) inputs.push_back(load_input(path));
  return inputs;
}

}  // namespace axon::cli
