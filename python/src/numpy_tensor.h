#pragma once
// numpy arrays <-> axon Tensors for the Python module.
//
// In: a C-contiguous float32, float64, int32 or int64 array becomes a Tensor over the
// array's own memory (no copy; the Tensor keeps the array alive). Other layouts are
// made contiguous (a copy), and other dtypes converted (a copy): bool, integers of other
// widths and float16 to float32 or int64, as Keras converts its inputs. Strings,
// objects and complex numbers raise TypeError.
// Out: a Tensor becomes an array over the Tensor's memory (the array keeps it alive).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "axon/tensor.h"

namespace axon::python {

namespace py = pybind11;

// `what` names the argument in errors ("x", "y", "sample_weight").
Tensor to_tensor(const py::handle& value, const char* what);
// As to_tensor, then float64 becomes float32: the dtype models compute in, as Keras's
// floatx. Integer arrays stay integers (labels, token ids).
Tensor to_model_input(const py::handle& value, const char* what);
py::array to_numpy(const Tensor& tensor);

std::vector<Tensor> to_model_inputs(const py::handle& value, const char* what);  // one array or a list of arrays
py::object to_numpy_list(const std::vector<Tensor>& tensors);                    // one array, or a list of several

}  // namespace axon::python
