// Models for Python: Sequential, Functional and models subclassed in Python, with
// Keras's compile / fit / evaluate / predict and model files. Inputs are converted
// with the GIL held, then the C++ loop runs with the GIL released; it takes the GIL
// back only to run Python code (a Python call(), loss or callback).
#include <pybind11/stl.h>

#include "axon/functional.h"
#include "axon/metric.h"
#include "axon/model_file.h"
#include "axon/onnx.h"
#include "axon/ops.h"
#include "axon/sequential.h"
#include "bindings.h"
#include "fit_callbacks.h"
#include "numpy_tensor.h"
#include "python_layer.h"
#include "python_ref.h"

namespace axon::python {

namespace {

// x or y for a model of `count` inputs (or outputs): one array (or a list holding one)
// for one; a list, tuple or dict (by name) of arrays for several.
std::vector<Tensor> model_arrays(const py::handle& value, size_t count, const std::vector<std::string>& names,
                                 const char* what) {
  const bool sequence = py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value);
  if (count == 1) {
    if (sequence && py::len(value) >= 1 && py::isinstance<py::array>(value.cast<py::sequence>()[0])) {
      if (py::len(value) != 1)
        throw py::value_error(std::string(what) + ": the model has one input, got a list of " +
                              std::to_string(py::len(value)) + " arrays");
      return {to_model_input(value.cast<py::sequence>()[0], what)};
    }
    if (py::isinstance<py::dict>(value) && py::len(value) == 1)
      return {to_model_input(value.cast<py::dict>().begin()->second, what)};
    return {to_model_input(value, what)};
  }
  if (py::isinstance<py::dict>(value)) {
    const auto dict = value.cast<py::dict>();
    std::vector<Tensor> tensors;
    for (const std::string& name : names) {
      if (!dict.contains(name)) throw py::value_error(std::string(what) + ": no array for '" + name + "'");
      tensors.push_back(to_model_input(dict[py::str(name)], (std::string(what) + "['" + name + "']").c_str()));
    }
    return tensors;
  }
  if (!sequence || py::len(value) != count)
    throw py::value_error(std::string(what) + ": the model has " + std::to_string(count) +
                          " of them; pass a list of that many arrays (or a dict by name)");
  return to_model_inputs(value, what);
}

std::vector<Tensor> inputs_of(const Model& model, const py::handle& x, const char* what = "x") {
  return model_arrays(x, model.input_count(), model.input_names(), what);
}
std::vector<Tensor> targets_of(const Model& model, const py::handle& y, const char* what = "y") {
  return model_arrays(y, model.output_count(), model.output_names(), what);
}

OptimizerSpec optimizer_of(const py::handle& optimizer) {
  if (py::isinstance<py::str>(optimizer)) return OptimizerSpec(optimizer.cast<std::string>());
  return OptimizerSpec(optimizer.cast<std::shared_ptr<Optimizer>>());
}

// A loss: a name, (name, from_logits), or (name, callable(y_true, y_pred)) for a
// Python function of Variables (its result averaged if it is not a scalar).
LossSpec loss_of(const py::handle& loss) {
  if (py::isinstance<py::str>(loss)) return LossSpec(loss.cast<std::string>());
  const auto parts = loss.cast<py::tuple>();
  const auto name = parts[0].cast<std::string>();
  if (py::isinstance<py::bool_>(parts[1])) return LossSpec(name, parts[1].cast<bool>());
  PythonRef fn(parts[1]);
  return LossSpec(name, [fn, name](const Variable& prediction, const Tensor& target) {
    py::gil_scoped_acquire gil;
    py::object result =
        fn.get()(Variable(target.dtype() == prediction.dtype() ? target : target.to(prediction.dtype())), prediction);
    if (!py::isinstance<Variable>(result))
      throw py::type_error("loss '" + name + "': expected a Variable, got " +
                           py::str(result.get_type()).cast<std::string>());
    const auto value = result.cast<Variable>();
    return value.numel() == 1 ? reshape(value, {}) : mean(value);
  });
}

MetricSpec metric_of(const py::handle& metric) {
  if (py::isinstance<py::str>(metric)) return MetricSpec(metric.cast<std::string>());
  return MetricSpec(metric.cast<std::shared_ptr<Metric>>());
}

void compile_model(Model& model, const py::handle& optimizer, const py::list& losses, const py::list& metrics,
                   const std::vector<double>& loss_weights) {
  std::vector<LossSpec> loss_specs;
  for (const py::handle loss : losses) loss_specs.push_back(loss_of(loss));
  std::vector<std::vector<MetricSpec>> metric_specs;
  for (const py::handle output : metrics) {
    metric_specs.emplace_back();
    for (const py::handle metric : output) metric_specs.back().push_back(metric_of(metric));
  }
  model.compile(optimizer_of(optimizer), loss_specs, metric_specs, loss_weights);
}

Tensor optional_tensor(const py::handle& value, const char* what) {
  return value.is_none() ? Tensor() : to_model_input(value, what);
}

py::tuple history_of(const History& history) {
  py::list logs;
  for (const Logs& l : history.logs) logs.append(logs_dict(l));
  return py::make_tuple(py::cast(history.epochs), logs);
}

py::tuple fit_model(Model& model, const py::handle& x, const py::handle& y, int epochs, int64_t batch_size,
                    double validation_split, const py::handle& validation_data, bool shuffle,
                    const py::handle& callbacks, int verbose, uint64_t seed, int initial_epoch,
                    const py::handle& sample_weight, const std::map<int64_t, double>& class_weight) {
  const std::vector<Tensor> inputs = inputs_of(model, x), targets = targets_of(model, y);
  FitOptions options{.epochs = epochs,
                     .batch_size = batch_size,
                     .validation_split = validation_split,
                     .shuffle = shuffle,
                     .callbacks = fit_callbacks(callbacks),
                     .verbose = verbose,
                     .seed = seed,
                     .initial_epoch = initial_epoch,
                     .sample_weight = optional_tensor(sample_weight, "sample_weight"),
                     .class_weight = class_weight};
  if (!validation_data.is_none()) {
    const auto pair = validation_data.cast<py::sequence>();
    if (py::len(pair) != 2) throw py::value_error("validation_data: expected (x_val, y_val)");
    options.validation_data = std::make_pair(inputs_of(model, pair[0], "validation_data[0]").at(0),
                                             targets_of(model, pair[1], "validation_data[1]").at(0));
  }
  History history;
  {
    py::gil_scoped_release release;
    history = model.fit(inputs, targets, options);
  }
  return history_of(history);
}

py::dict evaluate_model(Model& model, const py::handle& x, const py::handle& y, int64_t batch_size, int verbose,
                        const py::handle& sample_weight) {
  const std::vector<Tensor> inputs = inputs_of(model, x), targets = targets_of(model, y);
  const Tensor weights = optional_tensor(sample_weight, "sample_weight");
  Logs logs;
  {
    py::gil_scoped_release release;
    logs = model.evaluate(inputs, targets, batch_size, verbose, weights);
  }
  return logs_dict(logs);
}

py::object predict_model(Model& model, const py::handle& x, int64_t batch_size) {
  const std::vector<Tensor> inputs = inputs_of(model, x);
  std::vector<Tensor> outputs;
  {
    py::gil_scoped_release release;
    outputs = model.predict(inputs, batch_size);
  }
  return to_numpy_list(outputs);
}

py::dict on_batch(Model& model, const py::handle& x, const py::handle& y, bool train) {
  const std::vector<Tensor> inputs = inputs_of(model, x), targets = targets_of(model, y);
  if (inputs.size() != 1 || targets.size() != 1)
    throw py::value_error("train_on_batch / test_on_batch: one input and one output");
  Logs logs;
  {
    py::gil_scoped_release release;
    logs = train ? model.train_on_batch(inputs[0], targets[0]) : model.test_on_batch(inputs[0], targets[0]);
  }
  return logs_dict(logs);
}

}  // namespace

void bind_models(py::module_& m) {
  py::class_<Model, Module, std::shared_ptr<Model>>(m, "Model", "A model (C++ axon::Model)")
      .def("compile", &compile_model, py::arg("optimizer"), py::arg("losses"), py::arg("metrics"),
           py::arg("loss_weights"))
      .def_property_readonly("compiled", &Model::compiled)
      .def("fit", &fit_model, py::arg("x"), py::arg("y"), py::arg("epochs"), py::arg("batch_size"),
           py::arg("validation_split"), py::arg("validation_data"), py::arg("shuffle"), py::arg("callbacks"),
           py::arg("verbose"), py::arg("seed"), py::arg("initial_epoch"), py::arg("sample_weight"),
           py::arg("class_weight"))
      .def("evaluate", &evaluate_model, py::arg("x"), py::arg("y"), py::arg("batch_size"), py::arg("verbose"),
           py::arg("sample_weight"))
      .def("predict", &predict_model, py::arg("x"), py::arg("batch_size"))
      .def("train_on_batch",
           [](Model& model, const py::handle& x, const py::handle& y) { return on_batch(model, x, y, true); })
      .def("test_on_batch",
           [](Model& model, const py::handle& x, const py::handle& y) { return on_batch(model, x, y, false); })
      .def("build", [](Model& model, const std::vector<int64_t>& shape) { model.build(Shape(shape)); })
      .def("summary", [](const Model& model) { return model.summary(); })
      .def("get_weights",
           [](const Model& model) {
             py::list out;
             for (const Tensor& t : model.get_weights()) out.append(to_numpy(t));
             return out;
           })
      .def("set_weights",
           [](Model& model, const py::list& weights) {
             std::vector<Tensor> tensors;
             for (const py::handle w : weights) tensors.push_back(to_tensor(w, "weights"));
             model.set_weights(tensors);
           })
      .def_readwrite("stop_training", &Model::stop_training)
      .def_property(
          "learning_rate", [](const Model& model) { return model.optimizer().learning_rate(); },
          [](const Model& model, double rate) { model.optimizer().set_learning_rate(rate); })
      .def_property_readonly("input_names", &Model::input_names)
      .def_property_readonly("output_names", &Model::output_names)
      .def_property_readonly("input_count", &Model::input_count)
      .def_property_readonly("output_count", &Model::output_count)
      .def_property_readonly("input_shape",
                             [](const Model& model) -> py::object {
                               if (!model.input_shape()) return py::none();
                               return py::tuple(py::cast(model.input_shape()->dims()));
                             })
      .def("save", [](const Model& model, const std::string& path) { save_model(model, path); })
      .def("save_weights", [](const Model& model, const std::string& path) { save_weights(model, path); })
      .def("load_weights", [](Model& model, const std::string& path) { load_weights(model, path); });

  py::class_<Sequential, Model, std::shared_ptr<Sequential>>(m, "Sequential")
      .def(py::init<>())
      .def(py::init([](const std::vector<int64_t>& shape) { return std::make_shared<Sequential>(Shape(shape)); }))
      .def("add", [](Sequential& model, std::shared_ptr<Module> layer) { model.add_layer(std::move(layer)); });
  py::class_<Functional, Model, std::shared_ptr<Functional>>(m, "Functional")
      .def(py::init<std::vector<SymbolicTensor>, std::vector<SymbolicTensor>>(), py::arg("inputs"), py::arg("outputs"));
  py::class_<PythonModel, Model, std::shared_ptr<PythonModel>>(m, "PythonModel")
      .def(py::init(
          [](const py::handle& self, const std::string& type) { return std::make_shared<PythonModel>(self, type); }))
      .def("track", &PythonModel::track);

  m.def(
      "load_model", [](const std::string& path) { return load_model(path); }, py::arg("path"));
  m.def("save_onnx", &save_onnx, py::arg("model"), py::arg("path"), py::arg("opset"));
  m.def(
      "load_onnx", [](const std::string& path) { return load_onnx(path); }, py::arg("path"));
}

}  // namespace axon::python
