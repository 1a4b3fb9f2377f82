#include <cstdlib>
#include <filesystem>

#include "axon/packaged_datasets.h"
#include "axon/readers.h"
#include "kernels/parallel.h"

namespace axon::datasets {

namespace {

constexpr const char* kDefaultDirectory = "/usr/share/datasets/fashion-mnist/";

// images: IDX (n, 28, 28) -> (n, 784) in [0, 1]; labels: IDX (n,) checked to be 0..9.
void load_split(const std::string& images_path, const std::string& labels_path, Tensor& x, Tensor& y) {
  Tensor images = read_idx(images_path);
  Tensor labels = read_idx(labels_path);
  if (images.rank() != 3 || images.dim(1) != 28 || images.dim(2) != 28)
    fail("fashion_mnist: ", images_path, " holds shape ", images.shape(), ", expected (n, 28, 28)");
  if (labels.rank() != 1 || labels.dim(0) != images.dim(0))
    fail("fashion_mnist: ", labels_path, " holds shape ", labels.shape(), ", expected (", images.dim(0), ",) to match ",
         images_path);
  float* pixels = images.data<float>();
  kernels::parallel_for(images.numel(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) pixels[i] /= 255.0f;
  });
  const float* classes = labels.data<float>();
  for (int64_t i = 0; i < labels.numel(); ++i)
    if (classes[i] < 0 || classes[i] > 9)
      fail("fashion_mnist: ", labels_path, ": label ", i, " is ", classes[i], ", not in 0..9");
  x = images.reshape({images.dim(0), 784});
  y = labels;
}

}  // namespace

ImageData fashion_mnist(const std::string& directory) {
  std::string folder = directory;
  if (folder.empty()) {
    const char* from_env = std::getenv("AXON_FASHION_MNIST_DIR");
    folder = from_env && *from_env ? from_env : kDefaultDirectory;
  }
  const std::filesystem::path root(folder);
  const std::string names[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                               "t10k-labels-idx1-ubyte.gz"};
  std::string paths[4];
  for (int i = 0; i < 4; ++i) {
    paths[i] = (root / names[i]).string();
    std::error_code unreadable;
    if (!std::filesystem::is_regular_file(paths[i], unreadable))
      fail("fashion_mnist: ", paths[i], " not found; install the Debian package dataset-fashion-mnist",
           " (scripts/bootstrap data), or set AXON_FASHION_MNIST_DIR to a folder holding the four files");
  }
  // ~0.3 s, most of it zlib inflating the 26 MB of training images.
  ImageData data;
  load_split(paths[0], paths[1], data.x_train, data.y_train);
  load_split(paths[2], paths[3], data.x_test, data.y_test);
  return data;
}

const std::vector<std::string>& fashion_mnist_class_names() {
  static const std::vector<std::string> names{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

}  // namespace axon::datasets
