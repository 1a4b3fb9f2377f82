#include "numpy_tensor.h"

#include <optional>
#include <string>

namespace axon::python {

namespace {

// The axon dtype of a numpy dtype that can be shared as it is; false if none.
bool shared_dtype(const py::dtype& dtype, DType& out) {
  const char kind = dtype.kind();
  const auto size = dtype.itemsize();
  if (!dtype.attr("isnative").cast<bool>()) return false;  // byte-swapped
  if (kind == 'f' && size == 4) return out = DType::f32, true;
  if (kind == 'f' && size == 8) return out = DType::f64, true;
  if (kind == 'i' && size == 4) return out = DType::i32, true;
  if (kind == 'i' && size == 8) return out = DType::i64, true;
  return false;
}

// The dtype an array of another numeric dtype is converted to.
py::dtype converted_dtype(const py::dtype& dtype, const char* what) {
  switch (dtype.kind()) {
    case 'b':
    case 'f':
      return py::dtype::of<float>();
    case 'i':
    case 'u':
      return py::dtype::of<int64_t>();
    default:
      throw py::type_error(std::string(what) + ": expected a numeric array, got dtype " +
                           py::repr(py::object(dtype)).cast<std::string>());
  }
}

// A list or tuple of rows of different lengths (numpy will not make one array of them).
bool is_ragged(const py::handle& value) {
  if (!py::isinstance<py::list>(value) && !py::isinstance<py::tuple>(value)) return false;
  std::optional<size_t> length;
  for (const py::handle& row : value) {
    if (!py::isinstance<py::list>(row) && !py::isinstance<py::tuple>(row) && !py::isinstance<py::array>(row)) return false;
    const size_t n = py::len(row);
    if (length && *length != n) return true;
    length = n;
  }
  return false;
}

}  // namespace

Tensor to_tensor(const py::handle& value, const char* what) {
  if (value.is_none()) throw py::type_error(std::string(what) + ": expected an array, got None");
  py::array array = py::array::ensure(value);
  if (!array && is_ragged(value))
    throw py::value_error(std::string(what) +
                          ": its rows have different lengths (a ragged batch); pad them to one length first, "
                          "e.g. with axon.utils.pad_sequences");
  if (!array) throw py::type_error(std::string(what) + ": expected an array or a nested list of numbers");
  DType dtype;
  if (!shared_dtype(array.dtype(), dtype)) {
    array = py::array(array.attr("astype")(converted_dtype(array.dtype(), what)));
    shared_dtype(array.dtype(), dtype);
  }
  // Shared only when C-contiguous and aligned (numpy can hold misaligned data, which
  // axon's kernels must not read as floats): otherwise a contiguous, aligned copy.
  if (!(array.flags() & py::array::c_style) || !(array.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
    array = py::array(py::module_::import("numpy").attr("require")(array, py::none(), "CA"));
  std::vector<int64_t> dims(array.shape(), array.shape() + array.ndim());
  // The Tensor holds a reference to the array; dropping it needs the GIL, which a
  // C++ thread that outlives the call may not hold.
  auto* owner = array.inc_ref().ptr();
  std::shared_ptr<void> keep(owner, [](void* object) {
    py::gil_scoped_acquire gil;
    Py_DECREF(static_cast<PyObject*>(object));
  });
  return Tensor::view(std::move(keep), const_cast<void*>(array.data()), Shape(std::move(dims)), dtype);
}

Tensor to_model_input(const py::handle& value, const char* what) {
  Tensor t = to_tensor(value, what);
  return t.dtype() == DType::f64 ? t.to(DType::f32) : t;
}

py::array to_numpy(const Tensor& tensor) {
  if (!tensor.defined()) throw py::value_error("to_numpy: the tensor is undefined");
  py::dtype dtype;
  switch (tensor.dtype()) {
    case DType::f32:
      dtype = py::dtype::of<float>();
      break;
    case DType::f64:
      dtype = py::dtype::of<double>();
      break;
    case DType::i32:
      dtype = py::dtype::of<int32_t>();
      break;
    case DType::i64:
      dtype = py::dtype::of<int64_t>();
      break;
    case DType::i8:
      dtype = py::dtype::of<int8_t>();
      break;
  }
  auto* kept = new Tensor(tensor);
  py::capsule owner(kept, [](void* p) { delete static_cast<Tensor*>(p); });
  const std::vector<int64_t>& dims = tensor.shape().dims();
  std::vector<py::ssize_t> shape(dims.begin(), dims.end());
  return py::array(dtype, shape, const_cast<void*>(tensor.raw()), owner);
}

std::vector<Tensor> to_model_inputs(const py::handle& value, const char* what) {
  std::vector<Tensor> tensors;
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    size_t i = 0;
    for (const py::handle item : value) {
      const std::string name = std::string(what) + "[" + std::to_string(i++) + "]";
      tensors.push_back(to_model_input(item, name.c_str()));
    }
  } else {
    tensors.push_back(to_model_input(value, what));
  }
  return tensors;
}

py::object to_numpy_list(const std::vector<Tensor>& tensors) {
  if (tensors.size() == 1) return to_numpy(tensors[0]);
  py::list arrays;
  for (const Tensor& t : tensors) arrays.append(to_numpy(t));
  return arrays;
}

}  // namespace axon::python
