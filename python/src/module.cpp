// The extension module axon._axon: the C++ library for the pure-Python package axon
// (python/axon), which gives it Keras's names and arguments.
#include "axon/error.h"
#include "bindings.h"

PYBIND11_MODULE(_axon, m) {
  m.doc() = "axon's C++ library (use the package axon, not this module)";
  // axon's errors are bad arguments or data: ValueError, as Keras raises for those.
  pybind11::register_exception<axon::Error>(m, "AxonError", PyExc_ValueError);
  axon::python::bind_variables(m);
  axon::python::bind_layers(m);
  axon::python::bind_training(m);
  axon::python::bind_callbacks(m);
  axon::python::bind_models(m);
  axon::python::bind_data(m);
  axon::python::bind_text(m);
}
