#pragma once
// Layers and models subclassed in Python: C++ Modules whose computation is the Python
// object's call() (and, for layers, build()), run with the GIL taken. The Python object
// owns its C++ half; the C++ half reaches back through a weak reference.
#include <string>
#include <vector>

#include "axon/model.h"
#include "python_ref.h"

namespace axon::python {

// Calls self.call(x) with one Variable, or with a list of them for several inputs (and
// training=, where call takes it; see Layer._call_native), and takes back one Variable
// or a list/tuple of them.
std::vector<Variable> call_python(const PythonSelf& self, const std::string& who, const std::vector<Variable>& inputs,
                                  bool training);

// A Layer subclassed in Python: build(input_shape) makes its weights through
// add_weight, call(inputs) computes.
class PythonLayer : public Module {
 public:
  PythonLayer(const py::handle& self, std::string type) : self_(self), type_(std::move(type)) {}
  std::vector<Variable> forward_many(const std::vector<Variable>& inputs) override {
    return call_python(self_, type_, inputs, training());
  }
  std::string type_name() const override { return type_; }
  Variable weight(const std::string& name, Tensor value, bool trainable, Regularizer regularizer) {
    return add_weight(name, std::move(value), trainable, std::move(regularizer));
  }
  void child(const std::string& name, std::shared_ptr<Module> module) { add_module(name, std::move(module)); }

 protected:
  void create_weights_many(const std::vector<Shape>& input_shapes) override;

 private:
  PythonSelf self_;
  std::string type_;
};

// A Model subclassed in Python: layers assigned as attributes join it in order
// ("layers.0", "layers.1", ... as in a C++ subclass), call(inputs) computes.
class PythonModel : public Model {
 public:
  PythonModel(const py::handle& self, std::string type) : self_(self), type_(std::move(type)) {}
  Variable call(const Variable& x) override {
    const std::vector<Variable> outputs = call_python(self_, type_, {x}, training());
    if (outputs.size() != 1) fail(type_, ".call: a subclassed model returns one Variable, got ", outputs.size());
    return outputs[0];
  }
  std::string type_name() const override { return type_; }
  void track(std::shared_ptr<Module> layer) { add_layer(std::move(layer)); }

 private:
  PythonSelf self_;
  std::string type_;
};

}  // namespace axon::python
