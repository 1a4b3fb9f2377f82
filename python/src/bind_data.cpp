// Data for Python: the packaged Fashion-MNIST, sklearn-style splits, seeds, threads.
#include <pybind11/stl.h>

#include "axon/packaged_datasets.h"
#include "axon/random.h"
#include "axon/splits.h"
#include "axon/threads.h"
#include "axon/version.h"
#include "bindings.h"
#include "numpy_tensor.h"

namespace axon::python {

namespace {

py::list folds_of(const std::vector<Fold>& folds) {
  py::list out;
  for (const Fold& fold : folds)
    out.append(py::make_tuple(py::array(py::cast(fold.train)), py::array(py::cast(fold.test))));
  return out;
}

}  // namespace

void bind_data(py::module_& m) {
  m.def(
      "fashion_mnist",
      [](const std::string& directory) {
        datasets::ImageData data;
        {
          py::gil_scoped_release release;
          data = datasets::fashion_mnist(directory);
        }
        return py::make_tuple(to_numpy(data.x_train), to_numpy(data.y_train), to_numpy(data.x_test),
                              to_numpy(data.y_test));
      },
      py::arg("directory") = "", "(x_train, y_train, x_test, y_test): x (n, 784) in [0, 1], y (n,) class indices");
  m.def("fashion_mnist_class_names", &datasets::fashion_mnist_class_names);
  m.def(
      "train_test_split",
      [](const py::handle& x, const py::handle& y, double test_size, bool stratify, uint64_t seed) {
        const TrainTestSplit split = train_test_split(to_tensor(x, "x"), to_tensor(y, "y"), test_size, stratify, seed);
        return py::make_tuple(to_numpy(split.x_train), to_numpy(split.x_test), to_numpy(split.y_train),
                              to_numpy(split.y_test));
      },
      py::arg("x"), py::arg("y"), py::arg("test_size"), py::arg("stratify"), py::arg("seed"));
  m.def(
      "k_fold", [](int64_t n, int64_t k, bool shuffle, uint64_t seed) { return folds_of(k_fold(n, k, shuffle, seed)); },
      py::arg("n"), py::arg("k"), py::arg("shuffle"), py::arg("seed"));
  m.def(
      "stratified_k_fold",
      [](const py::handle& labels, int64_t k, uint64_t seed) {
        return folds_of(stratified_k_fold(to_tensor(labels, "labels"), k, seed));
      },
      py::arg("labels"), py::arg("k"), py::arg("seed"));
  m.def("manual_seed", &manual_seed, py::arg("seed"));
  m.def("set_num_threads", &set_num_threads, py::arg("threads"));
  m.def("num_threads", &num_threads);
  m.def("blas_kernels", &blas_kernels);
  m.def("version", [] { return std::string(version()); });
}

}  // namespace axon::python
