#include "served_model.h"

#include <algorithm>
#include <cctype>

#include "axon/error.h"
#include "metrics.h"

namespace axon::serve {

std::shared_ptr<ServedVersion> serve_version(const std::string& name, int64_t version, std::shared_ptr<Model> model,
                                             const std::vector<Shape>& input_shapes, const BatchingOptions& options,
                                             ServerMetrics& metrics) {
  if (!model) fail("model '", name, "' is null");
  const std::vector<std::string> input_names = model->input_names(), output_names = model->output_names();
  if (input_shapes.size() != input_names.size())
    fail("model '", name, "' takes ", input_names.size(), " inputs, got ", input_shapes.size(), " shapes");
  if (!model->built() && input_shapes.size() == 1) model->build(input_shapes[0]);
  // One example through the model gives the output shapes (and checks the input shapes).
  std::vector<Tensor> probe_inputs;
  for (const Shape& shape : input_shapes) {
    std::vector<int64_t> dims = shape.dims();
    dims.insert(dims.begin(), 1);
    probe_inputs.push_back(Tensor::zeros(Shape(dims)));
  }
  const std::vector<Tensor> probe = model->predict(probe_inputs);
  auto served = std::make_shared<ServedVersion>();
  served->name = name;
  served->version = version;
  served->model = model;
  for (size_t i = 0; i < input_shapes.size(); ++i) served->inputs.push_back({input_names[i], input_shapes[i], nullptr});
  if (served->inputs.size() == 1) served->inputs[0].text = text_vectorization_of(*served->model);
  for (size_t k = 0; k < probe.size(); ++k)
    served->outputs.push_back({output_names[k], Shape(std::vector<int64_t>(probe[k].shape().dims().begin() + 1,
                                                                           probe[k].shape().dims().end()))});
  served->batcher = std::make_shared<Batcher>(
      model, options.max_batch, std::chrono::microseconds(options.batch_timeout_us), options.max_queue,
      [&metrics, name, version](int64_t rows) { metrics.record_batch(name, version, rows); });
  return served;
}

bool valid_model_name(const std::string& name) {
  const auto allowed = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  };
  return !name.empty() && std::all_of(name.begin(), name.end(), allowed);
}

std::vector<Shape> built_input_shapes(const std::string& name, const Model& model) {
  if (!model.built() || model.input_shapes().empty()) fail("model '", name, "' is not built; give its input shape");
  return model.input_shapes();
}

}  // namespace axon::serve
