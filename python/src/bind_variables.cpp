// Variable and the differentiable ops for Python (axon.Variable, axon.ops): numpy in,
// numpy out, backward() and .grad, as people who learn backpropagation by hand use them.
#include <optional>

#include <pybind11/stl.h>

#include "axon/ops.h"
#include "bindings.h"
#include "numpy_tensor.h"

namespace axon::python {

namespace {

// The other operand of a Variable's arithmetic: a Variable, or an array or number
// taken as a constant of the Variable's dtype.
Variable operand(const Variable& like, const py::handle& value) {
  if (py::isinstance<Variable>(value)) return value.cast<Variable>();
  Tensor t = to_tensor(py::module_::import("numpy").attr("asarray")(value), "operand");
  return Variable(t.dtype() == like.dtype() ? t : t.to(like.dtype()));
}

using Binary = Variable (*)(const Variable&, const Variable&);

template <Binary op>
Variable forward_op(const Variable& a, const py::handle& b) {
  return op(a, operand(a, b));
}
template <Binary op>
Variable reverse_op(const Variable& a, const py::handle& b) {
  return op(operand(a, b), a);
}

Variable to_variable(const py::handle& value) {
  if (py::isinstance<Variable>(value)) return value.cast<Variable>();
  return Variable(to_model_input(value, "x"));
}

}  // namespace

void bind_variables(py::module_& m) {
  py::class_<Variable> variable(m, "Variable", "A tensor in the autograd graph");
  // numpy defers to Variable's operators (array @ variable stays in the graph).
  variable.attr("__array_ufunc__") = py::none();
  variable
      .def(py::init([](const py::handle& value, bool requires_grad) {
             // A copy, as torch.tensor: parameter updates must not write into the caller's array.
             Tensor t = to_tensor(py::module_::import("numpy").attr("asarray")(value), "Variable").clone();
             return Variable(is_floating(t.dtype()) ? t : t.to(DType::f32), requires_grad);
           }),
           py::arg("value"), py::arg("requires_grad") = false)
      .def(
          "numpy", [](const Variable& v) { return to_numpy(v.value().clone()); }, "A copy of the value")
      .def_property_readonly("grad",
                             [](const Variable& v) -> py::object {
                               if (!v.grad().defined()) return py::none();
                               return to_numpy(v.grad().clone());
                             })
      .def_property("requires_grad", &Variable::requires_grad, &Variable::set_requires_grad)
      .def_property_readonly("shape", [](const Variable& v) { return py::tuple(py::cast(v.shape().dims())); })
      .def_property_readonly("dtype", [](const Variable& v) { return std::string(dtype_name(v.dtype())); })
      .def_property_readonly("op", [](const Variable& v) { return std::string(v.op()); })
      .def_property_readonly("ndim", &Variable::rank)
      .def("__len__",
           [](const Variable& v) {
             if (v.rank() == 0) throw py::type_error("len() of a 0-d Variable");
             return v.dim(0);
           })
      .def("item", &Variable::item)
      .def("backward", [](Variable& v) { v.backward(); })
      .def("backward", [](Variable& v, const py::handle& grad) { v.backward(to_tensor(grad, "grad").to(v.dtype())); })
      .def("zero_grad", &Variable::zero_grad)
      .def(
          "assign",
          [](Variable& v, const py::handle& value) {
            v.value().copy_from(to_tensor(py::module_::import("numpy").attr("asarray")(value), "value"));
          },
          "Overwrites the value in place (same shape)")
      .def("detach", &Variable::detach)
      .def(
          "__array__",
          [](const Variable& v, const py::object& dtype, const py::object&) {
            py::object array = to_numpy(v.value().clone());
            return dtype.is_none() ? array : array.attr("astype")(dtype);
          },
          py::arg("dtype") = py::none(), py::arg("copy") = py::none(), "A copy of the value, as numpy")
      .def("__repr__",
           [](const Variable& v) {
             return "Variable(shape=" + v.shape().str() + ", dtype=" + dtype_name(v.dtype()) + ", op=" + v.op() + ")";
           })
      .def("__add__", &forward_op<add>)
      .def("__radd__", &reverse_op<add>)
      .def("__sub__", &forward_op<sub>)
      .def("__rsub__", &reverse_op<sub>)
      .def("__mul__", &forward_op<mul>)
      .def("__rmul__", &reverse_op<mul>)
      .def("__truediv__", &forward_op<div>)
      .def("__rtruediv__", &reverse_op<div>)
      .def("__matmul__", &forward_op<matmul>)
      .def("__rmatmul__", &reverse_op<matmul>)
      .def("__pow__", [](const Variable& a, double exponent) { return pow(a, exponent); })
      .def("__rpow__", [](const Variable& a, const py::handle& base) { return pow(operand(a, base), a); })
      .def("__neg__", [](const Variable& a) { return neg(a); })
      .def("reshape", [](const Variable& a, const std::vector<int64_t>& dims) { return reshape(a, dims); })
      .def_property_readonly("T", [](const Variable& a) { return transpose(a); });

  m.def(
      "_tensor_address",
      [](const py::handle& array) { return reinterpret_cast<uintptr_t>(to_model_input(array, "x").raw()); },
      "For tests: the address the Tensor made from `array` for a model reads");

  py::module_ ops = m.def_submodule("ops", "Differentiable operations on Variables (and arrays)");
  const auto unary = [&ops](const char* name, Variable (*op)(const Variable&), const char* doc) {
    ops.def(
        name, [op](const py::handle& x) { return op(to_variable(x)); }, py::arg("x"), doc);
  };
  const auto binary = [&ops](const char* name, Binary op) {
    ops.def(name, [op](const py::handle& a, const py::handle& b) {
      if (py::isinstance<Variable>(a)) return op(a.cast<Variable>(), operand(a.cast<Variable>(), b));
      const Variable vb = to_variable(b);
      return op(operand(vb, a), vb);
    });
  };
  binary("add", add);
  binary("subtract", sub);
  binary("multiply", mul);
  binary("divide", div);
  binary("matmul", matmul);
  unary("negative", neg, "-x");
  unary("exp", exp, "e^x");
  unary("log", log, "natural logarithm");
  unary("sqrt", sqrt, "square root");
  unary("abs", abs, "|x|");
  unary("square", square, "x^2");
  unary("relu", relu, "max(x, 0)");
  unary("gelu", gelu, "x * Phi(x) (exact)");
  unary("silu", silu, "x * sigmoid(x)");
  unary("sigmoid", sigmoid, "1 / (1 + e^-x)");
  unary("tanh", tanh, "hyperbolic tangent");
  unary("flatten", flatten, "(batch, ...) -> (batch, product of the rest)");
  ops.def("power", [](const py::handle& x, double exponent) { return pow(to_variable(x), exponent); });
  ops.def("clip", [](const py::handle& x, double low, double high) { return clamp(to_variable(x), low, high); });
  ops.def(
      "leaky_relu", [](const py::handle& x, double slope) { return leaky_relu(to_variable(x), slope); }, py::arg("x"),
      py::arg("negative_slope") = 0.01);
  ops.def(
      "elu", [](const py::handle& x, double alpha) { return elu(to_variable(x), alpha); }, py::arg("x"),
      py::arg("alpha") = 1.0);
  ops.def(
      "softmax", [](const py::handle& x, int64_t axis) { return softmax(to_variable(x), axis); }, py::arg("x"),
      py::arg("axis") = -1);
  ops.def(
      "log_softmax", [](const py::handle& x, int64_t axis) { return log_softmax(to_variable(x), axis); }, py::arg("x"),
      py::arg("axis") = -1);
  const auto reduction = [&ops](const char* name, Variable (*all)(const Variable&),
                                Variable (*along)(const Variable&, int64_t, bool)) {
    ops.def(
        name,
        [all, along](const py::handle& x, const py::object& axis, bool keepdims) {
          return axis.is_none() ? all(to_variable(x)) : along(to_variable(x), axis.cast<int64_t>(), keepdims);
        },
        py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false);
  };
  reduction("sum", sum, sum);
  reduction("mean", mean, mean);
  ops.def(
      "reshape", [](const py::handle& x, const std::vector<int64_t>& shape) { return reshape(to_variable(x), shape); },
      py::arg("x"), py::arg("new_shape"));
  ops.def(
      "transpose", [](const py::handle& x, int64_t a, int64_t b) { return transpose(to_variable(x), a, b); },
      py::arg("x"), py::arg("axis0") = -2, py::arg("axis1") = -1);
  ops.def(
      "concatenate",
      [](const std::vector<py::object>& parts, int64_t axis) {
        std::vector<Variable> values;
        for (const py::object& p : parts) values.push_back(to_variable(p));
        return concat(values, axis);
      },
      py::arg("xs"), py::arg("axis") = 0);
  ops.def(
      "slice",
      [](const py::handle& x, int64_t axis, int64_t start, int64_t end) {
        return slice(to_variable(x), axis, start, end);
      },
      py::arg("x"), py::arg("axis"), py::arg("start"), py::arg("end"));
  ops.def(
      "take",
      [](const py::handle& x, const std::vector<int64_t>& indices, int64_t axis) {
        return index_select(to_variable(x), axis, indices);
      },
      py::arg("x"), py::arg("indices"), py::arg("axis") = 0);

  // with axon.no_grad(): ... records no graph (inference, manual updates).
  struct NoGradScope {
    std::optional<NoGrad> guard;
  };
  py::class_<NoGradScope>(m, "no_grad", "with axon.no_grad(): ops record no graph")
      .def(py::init<>())
      .def("__enter__", [](NoGradScope& scope) { scope.guard.emplace(); })
      .def("__exit__", [](NoGradScope& scope, const py::args&) { scope.guard.reset(); });
  m.def("grad_enabled", &grad_enabled);
}

}  // namespace axon::python
