#pragma once
// What fit hands its C++ loop as callbacks: the Ctrl-C check first, then each of the
// caller's, built-in ones as they are and Python objects through an adapter.
#include <memory>
#include <vector>

#include <pybind11/pybind11.h>

#include "axon/callbacks.h"

namespace axon::python {

namespace py = pybind11;

std::vector<std::shared_ptr<Callback>> fit_callbacks(const py::handle& callbacks);  // None or a list
py::dict logs_dict(const Logs& logs);

}  // namespace axon::python
