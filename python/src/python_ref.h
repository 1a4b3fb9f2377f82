#pragma once
// PythonRef: a reference to a Python object that C++ may copy and drop without the GIL
// (in std::function objects that fit copies while the GIL is released); the reference
// count changes only under the GIL.
#include <memory>

#include <pybind11/pybind11.h>

namespace axon::python {

namespace py = pybind11;

class PythonRef {
 public:
  PythonRef() = default;
  explicit PythonRef(const py::handle& object)
      : object_(object.inc_ref().ptr(), [](PyObject* p) {
          py::gil_scoped_acquire gil;
          Py_DECREF(p);
        }) {}
  // The object; call with the GIL held.
  py::handle get() const { return object_.get(); }
  explicit operator bool() const { return object_ != nullptr; }

 private:
  std::shared_ptr<PyObject> object_;
};

// The Python instance behind a C++ object made for it (a layer or model subclassed in
// Python), held weakly: the Python object owns the C++ one, not the other way round.
class PythonSelf {
 public:
  explicit PythonSelf(const py::handle& self) : ref_(py::weakref(self)) {}
  // The live instance; call with the GIL held.
  py::object get(const char* who) const {
    py::object self = py::reinterpret_borrow<py::weakref>(ref_.get())();
    if (self.is_none()) throw py::value_error(std::string(who) + ": its Python object was deleted");
    return self;
  }

 private:
  PythonRef ref_;
};

}  // namespace axon::python
