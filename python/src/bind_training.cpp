// Optimizers, metrics and the confusion matrix for Python. Optimizers are made from
// their Keras-style configs through the registry, metrics by their Keras names.
#include <pybind11/stl.h>

#include "axon/metric.h"
#include "axon/optimizers.h"
#include "axon/registry.h"
#include "bindings.h"
#include "numpy_tensor.h"

namespace axon::python {

void bind_training(py::module_& m) {
  py::class_<Optimizer, std::shared_ptr<Optimizer>>(m, "Optimizer", "An optimizer (C++ axon::Optimizer)")
      .def_property("learning_rate", &Optimizer::learning_rate, &Optimizer::set_learning_rate)
      .def_property_readonly("type_name", &Optimizer::name)
      .def("config_json", [](const Optimizer& o) { return o.config().dump(); });
  m.def("create_optimizer", [](const std::string& config_json) {
    const Config config = Config::parse(config_json, "optimizer config");
    return Registry<Optimizer>::instance().create(ConfigReader(config, "optimizer"));
  });

  py::class_<Metric, std::shared_ptr<Metric>>(m, "Metric", "A streaming metric (C++ axon::Metric)")
      .def_property_readonly("name", &Metric::name)
      .def(
          "update_state",
          [](Metric& metric, const py::handle& y_true, const py::handle& y_pred, const py::handle& sample_weight) {
            const Tensor truth = to_model_input(y_true, "y_true"), prediction = to_model_input(y_pred, "y_pred");
            if (sample_weight.is_none())
              metric.update(prediction, truth);
            else
              metric.update(prediction, truth, to_model_input(sample_weight, "sample_weight"));
          },
          py::arg("y_true"), py::arg("y_pred"), py::arg("sample_weight") = py::none())
      .def("result", &Metric::result)
      .def("reset_state", &Metric::reset);
  m.def("create_metric", &metric, py::arg("name"));

  py::class_<ConfusionMatrix>(m, "ConfusionMatrix")
      .def(py::init<int64_t>(), py::arg("num_classes"))
      .def("update",
           [](ConfusionMatrix& c, const py::handle& y_true, const py::handle& y_pred) {
             c.update(to_model_input(y_pred, "y_pred"), to_model_input(y_true, "y_true"));
           })
      .def("count", &ConfusionMatrix::count)
      .def("report", [](const ConfusionMatrix& c,
                        const std::vector<std::string>& names) { return classification_report(c, names); })
      .def("table", &ConfusionMatrix::str, py::arg("class_names") = std::vector<std::string>{});
}

}  // namespace axon::python
