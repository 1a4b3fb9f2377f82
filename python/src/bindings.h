#pragma once
// The parts of the Python module _axon, one function per concept (python/src/bind_*.cpp).
#include <pybind11/pybind11.h>

namespace axon::python {

namespace py = pybind11;

void bind_variables(py::module_& m);  // Variable, autograd, axon.ops
void bind_layers(py::module_& m);     // registered layers, symbolic tensors, Python layers
void bind_training(py::module_& m);   // optimizers, losses, metrics
void bind_callbacks(py::module_& m);  // built-in callbacks and Python ones
void bind_models(py::module_& m);     // Model, Sequential, Functional, Python models; fit, predict, files
void bind_data(py::module_& m);       // datasets, splits, threads
void bind_text(py::module_& m);       // TextVectorization, pad_sequences, generate

}  // namespace axon::python
