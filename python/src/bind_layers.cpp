// Layers for Python: any registered layer made from its Keras-style config, called on
// Variables (eager) or on symbolic tensors (the functional API), and layers subclassed
// in Python (PythonLayer).
#include <pybind11/stl.h>

#include "axon/functional.h"
#include "axon/initializers.h"
#include "axon/random.h"
#include "axon/registry.h"
#include "bindings.h"
#include "numpy_tensor.h"
#include "python_layer.h"

namespace axon::python {

namespace {

py::tuple shape_tuple(const Shape& shape) { return py::cast(shape.dims()); }

// Keras's fans of a kernel: (in, out) for a matrix; a convolution kernel
// (kh, kw, ..., in, out) multiplies both by the receptive field.
std::pair<int64_t, int64_t> fans(const Shape& shape) {
  if (shape.rank() == 0) return {1, 1};
  if (shape.rank() == 1) return {shape[0], shape[0]};
  int64_t receptive = 1;
  for (int64_t i = 0; i + 2 < shape.rank(); ++i) receptive *= shape[i];
  return {shape[shape.rank() - 2] * receptive, shape[shape.rank() - 1] * receptive};
}

// Calls `layer` on Variables (or arrays, taken as constants): one in, one out; a list
// in, a list out.
py::object call_on_values(const std::shared_ptr<Module>& layer, const py::handle& inputs) {
  const auto as_variable = [](const py::handle& value) {
    if (py::isinstance<Variable>(value)) return value.cast<Variable>();
    return Variable(to_model_input(value, "layer input"));
  };
  if (py::isinstance<py::list>(inputs) || py::isinstance<py::tuple>(inputs)) {
    std::vector<Variable> values;
    for (const py::handle item : inputs) values.push_back(as_variable(item));
    return py::cast((*layer)(values));
  }
  return py::cast((*layer)(as_variable(inputs)));
}

}  // namespace

std::vector<Variable> call_python(const PythonSelf& self, const std::string& who, const std::vector<Variable>& inputs,
                                  bool training) {
  py::gil_scoped_acquire gil;
  py::object instance = self.get(who.c_str());
  py::object result =
      instance.attr("_call_native")(inputs.size() == 1 ? py::cast(inputs[0]) : py::cast(inputs), training);
  if (py::isinstance<Variable>(result)) return {result.cast<Variable>()};
  if (py::isinstance<py::list>(result) || py::isinstance<py::tuple>(result)) {
    std::vector<Variable> outputs;
    for (const py::handle item : result) {
      if (!py::isinstance<Variable>(item))
        throw py::type_error(who + ".call: expected Variables, got " + py::str(item.get_type()).cast<std::string>());
      outputs.push_back(item.cast<Variable>());
    }
    return outputs;
  }
  throw py::type_error(who + ".call: expected a Variable or a list of them, got " +
                       py::str(result.get_type()).cast<std::string>());
}

void PythonLayer::create_weights_many(const std::vector<Shape>& input_shapes) {
  py::gil_scoped_acquire gil;
  py::object instance = self_.get(type_.c_str());
  if (input_shapes.size() == 1)
    instance.attr("build")(shape_tuple(input_shapes[0]));
  else {
    py::list shapes;
    for (const Shape& s : input_shapes) shapes.append(shape_tuple(s));
    instance.attr("build")(shapes);
  }
}

void bind_layers(py::module_& m) {
  py::class_<Module, std::shared_ptr<Module>>(m, "Module", "A layer or model (C++ axon::Module)")
      .def_property_readonly("type_name", &Module::type_name)
      .def_property("name", &Module::name, &Module::set_name)
      .def_property_readonly("built", &Module::built)
      .def_property_readonly("training", &Module::training)
      .def("train", &Module::train, py::arg("training") = true)
      .def("set_trainable", &Module::set_trainable)
      .def("config_json", [](const Module& module) { return module.config().dump(); })
      .def("named_parameters",
           [](const Module& module) {
             py::list out;
             for (const NamedParameter& p : module.named_parameters())
               out.append(py::make_tuple(p.name, p.variable, p.trainable));
             return out;
           })
      .def("weights_replaced", &Module::weights_replaced)
      .def("children",
           [](const Module& module) {
             py::list out;
             for (const auto& [name, child] : module.children()) out.append(py::make_tuple(name, child));
             return out;
           })
      .def("parameter_count", &Module::parameter_count)
      .def("trainable_parameter_count", &Module::trainable_parameter_count)
      .def_property_readonly("output_shapes", [](const Module& module) {
        py::list out;
        for (const Shape& s : module.output_shapes()) out.append(shape_tuple(s));
        return out;
      });

  m.def("layer_types", [] {
    std::vector<std::string> names;
    for (const std::string& name : Registry<Module>::instance().names()) names.push_back(name);
    return names;
  });
  m.def(
      "create_layer",
      [](const std::string& config_json) {
        const Config config = Config::parse(config_json, "layer config");
        return Registry<Module>::instance().create(ConfigReader(config, "layer"));
      },
      "A registered layer from its config: {\"type\": \"dense\", \"units\": 10, ...}");
  m.def("call_layer", &call_on_values);

  py::class_<SymbolicTensor>(m, "SymbolicTensor", "A layer output (or a model input) in a graph being written")
      .def_property_readonly("shape", [](const SymbolicTensor& t) { return shape_tuple(t.shape()); });
  m.def(
      "symbolic_input",
      [](const std::vector<int64_t>& shape, const std::string& name) { return Input(Shape(shape), name); },
      py::arg("shape"), py::arg("name") = "");
  m.def("call_symbolic", [](const std::shared_ptr<Module>& layer, const std::vector<SymbolicTensor>& inputs) {
    return std::vector<SymbolicTensor>(detail::call_symbolic(layer, inputs));
  });

  py::class_<PythonLayer, Module, std::shared_ptr<PythonLayer>>(m, "PythonLayer")
      .def(py::init(
          [](const py::handle& self, const std::string& type) { return std::make_shared<PythonLayer>(self, type); }))
      .def(
          "add_weight",
          [](PythonLayer& layer, const std::string& name, const std::vector<int64_t>& dims,
             const std::string& initializer, bool trainable, const std::string& regularizer_json) {
            const Shape shape(dims);
            const auto [fan_in, fan_out] = fans(shape);
            Tensor value = Initializer::from_name(initializer)(shape, fan_in, fan_out, global_generator());
            Regularizer regularizer;
            if (!regularizer_json.empty()) {
              const Config config = Config::parse(regularizer_json, "regularizer");
              regularizer = Regularizer::from_config(ConfigReader(config, "regularizer"));
            }
            return layer.weight(name, std::move(value), trainable, std::move(regularizer));
          },
          py::arg("name"), py::arg("shape"), py::arg("initializer"), py::arg("trainable"), py::arg("regularizer"))
      .def("add_child", &PythonLayer::child);
}

}  // namespace axon::python
