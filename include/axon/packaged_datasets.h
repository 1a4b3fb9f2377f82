#pragma once
// Ready-made datasets, read from the files their Debian packages install
// (namespace axon::datasets; the Dataset interface itself is dataset.h).
#include <cstdint>
#include <string>
#include <vector>

#include "axon/tensor.h"

namespace axon::datasets {

// x: (n, 784) float32, pixels scaled to [0, 1]; y: (n,) float32 class indices 0..9.
struct ImageData {
  Tensor x_train, y_train, x_test, y_test;
};

// Fashion-MNIST (Zalando): 60,000 training and 10,000 test 28x28 grey images of 10
// kinds of clothing. Reads train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from `directory`; "" means
// $AXON_FASHION_MNIST_DIR if set, else /usr/share/datasets/fashion-mnist/ (the Debian
// package dataset-fashion-mnist).
ImageData fashion_mnist(const std::string& directory = "");

// The names of classes 0..9: "T-shirt/top", "Trouser", ..., "Ankle boot".
const std::vector<std::string>& fashion_mnist_class_names();

// The King James Bible (Debian's bible-kjv-text, read through its `bible` program from
// bible-kjv): one verse per line, without chapter headings and verse numbers, 4.2 MB.
std::string king_james_bible();

// Fortune cookies (Debian's fortunes): the entries of each category's file in
// /usr/share/games/fortunes ("%" lines between them), with the category's index in
// `categories` as label.
struct Texts {
  std::vector<std::string> texts;
  std::vector<int64_t> labels;
};
Texts fortunes(const std::vector<std::string>& categories, const std::string& directory = "/usr/share/games/fortunes");

}  // namespace axon::datasets
