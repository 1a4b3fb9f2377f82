// Callbacks for Python: the built-in ones with Keras's argument names, callbacks
// written in Python (any object with Keras's hooks), and the check that lets Ctrl-C
// end fit between batches.
#include <pybind11/stl.h>

#include "axon/callbacks.h"
#include "axon/html_report.h"
#include "axon/model.h"
#include "bindings.h"
#include "fit_callbacks.h"
#include "numpy_tensor.h"
#include "python_ref.h"

namespace axon::python {

namespace {

Mode mode_from(const std::string& mode) {
  if (mode == "auto") return Mode::automatic;
  if (mode == "min") return Mode::min;
  if (mode == "max") return Mode::max;
  throw py::value_error("mode must be 'auto', 'min' or 'max', got '" + mode + "'");
}

// A Python object's hooks, called with the GIL taken; logs arrive as a dict.
class PythonCallback : public Callback {
 public:
  explicit PythonCallback(const py::handle& callback) : callback_(callback) {}
  void on_train_begin(const Logs& logs) override { call("on_train_begin", logs); }
  void on_train_end(const Logs& logs) override { call("on_train_end", logs); }
  void on_epoch_begin(int epoch, const Logs& logs) override { call("on_epoch_begin", logs, epoch); }
  void on_epoch_end(int epoch, const Logs& logs) override { call("on_epoch_end", logs, epoch); }
  void on_batch_begin(int64_t batch, const Logs& logs) override { call("on_train_batch_begin", logs, batch); }
  void on_batch_end(int64_t batch, const Logs& logs) override { call("on_train_batch_end", logs, batch); }

 private:
  void call(const char* hook, const Logs& logs, std::optional<int64_t> step = std::nullopt) {
    py::gil_scoped_acquire gil;
    const py::handle callback = callback_.get();
    if (!py::hasattr(callback, hook)) return;
    if (step)
      callback.attr(hook)(*step, logs_dict(logs));
    else
      callback.attr(hook)(logs_dict(logs));
  }
  PythonRef callback_;
};

// Runs Python's signal handlers between batches: Ctrl-C raises KeyboardInterrupt out
// of fit there, with the model as the last finished batch left it.
class InterruptCheck : public Callback {
 public:
  void on_batch_end(int64_t, const Logs&) override { check(); }
  void on_epoch_end(int, const Logs&) override { check(); }

 private:
  static void check() {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  }
};

}  // namespace

py::dict logs_dict(const Logs& logs) {
  py::dict out;
  for (const auto& [name, value] : logs.items()) out[py::str(name)] = value;
  return out;
}

std::vector<std::shared_ptr<Callback>> fit_callbacks(const py::handle& callbacks) {
  std::vector<std::shared_ptr<Callback>> out{std::make_shared<InterruptCheck>()};
  if (callbacks.is_none()) return out;
  for (const py::handle item : callbacks) {
    if (py::isinstance<Callback>(item))
      out.push_back(item.cast<std::shared_ptr<Callback>>());
    else
      out.push_back(std::make_shared<PythonCallback>(item));
  }
  return out;
}

void bind_callbacks(py::module_& m) {
  py::class_<Callback, std::shared_ptr<Callback>>(m, "NativeCallback", "A callback implemented in C++");
  py::class_<EarlyStopping, Callback, std::shared_ptr<EarlyStopping>>(m, "EarlyStopping")
      .def(py::init([](const std::string& monitor, double min_delta, int patience, const std::string& mode,
                       bool restore_best_weights, int start_from_epoch) {
             return std::make_shared<EarlyStopping>(EarlyStopping::Options{
                 monitor, min_delta, patience, mode_from(mode), restore_best_weights, start_from_epoch});
           }),
           py::arg("monitor"), py::arg("min_delta"), py::arg("patience"), py::arg("mode"),
           py::arg("restore_best_weights"), py::arg("start_from_epoch"))
      .def_property_readonly("stopped_epoch", &EarlyStopping::stopped_epoch)
      .def_property_readonly("best_epoch", &EarlyStopping::best_epoch);
  py::class_<ReduceLROnPlateau, Callback, std::shared_ptr<ReduceLROnPlateau>>(m, "ReduceLROnPlateau")
      .def(py::init([](const std::string& monitor, double factor, int patience, const std::string& mode,
                       double min_delta, int cooldown, double min_lr) {
             return std::make_shared<ReduceLROnPlateau>(
                 ReduceLROnPlateau::Options{monitor, factor, patience, mode_from(mode), min_delta, cooldown, min_lr});
           }),
           py::arg("monitor"), py::arg("factor"), py::arg("patience"), py::arg("mode"), py::arg("min_delta"),
           py::arg("cooldown"), py::arg("min_lr"));
  py::class_<ModelCheckpoint, Callback, std::shared_ptr<ModelCheckpoint>>(m, "ModelCheckpoint")
      .def(py::init([](const std::string& path, const std::string& monitor, bool save_best_only, bool save_weights_only,
                       const std::string& mode) {
             return std::make_shared<ModelCheckpoint>(
                 path, ModelCheckpoint::Options{monitor, save_best_only, save_weights_only, mode_from(mode)});
           }),
           py::arg("filepath"), py::arg("monitor"), py::arg("save_best_only"), py::arg("save_weights_only"),
           py::arg("mode"));
  py::class_<CSVLogger, Callback, std::shared_ptr<CSVLogger>>(m, "CSVLogger")
      .def(py::init([](const std::string& path, const std::string& separator, bool append) {
             if (separator.size() != 1) throw py::value_error("CSVLogger: separator must be one character");
             return std::make_shared<CSVLogger>(path, append, separator[0]);
           }),
           py::arg("filename"), py::arg("separator"), py::arg("append"));
  py::class_<TerminateOnNaN, Callback, std::shared_ptr<TerminateOnNaN>>(m, "TerminateOnNaN").def(py::init<>());
  py::class_<HtmlReport, Callback, std::shared_ptr<HtmlReport>>(m, "HtmlReport")
      .def(py::init([](const std::string& path, const std::string& title, const py::object& evaluation_data,
                       const std::vector<std::string>& class_names) {
             HtmlReportOptions options{.title = title, .class_names = class_names};
             if (!evaluation_data.is_none()) {
               const auto pair = evaluation_data.cast<py::tuple>();
               options.evaluation_data = std::make_pair(to_model_input(pair[0], "evaluation_data[0]"),
                                                        to_model_input(pair[1], "evaluation_data[1]"));
             }
             return std::make_shared<HtmlReport>(path, std::move(options));
           }),
           py::arg("path"), py::arg("title"), py::arg("evaluation_data"), py::arg("class_names"));
}

}  // namespace axon::python
