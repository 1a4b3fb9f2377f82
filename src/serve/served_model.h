#pragma once
// One version of a model as the server runs it: the model, its named input and output
// tensors (one example each, no batch axis) and the batcher that owns its forward passes.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "axon/model.h"
#include "batcher.h"
#include "protocol.h"

namespace axon::serve {

class ServerMetrics;

struct BatchingOptions {
  int64_t max_batch = 64;
  int64_t batch_timeout_us = 0;
  int64_t max_queue = 1024;
};

struct ServedVersion {
  std::string name;
  int64_t version = 1;
  std::shared_ptr<Model> model;
  std::vector<TensorSpec> inputs, outputs;
  std::shared_ptr<Batcher> batcher;  // shared with a pass left for an I/O thread to run
};

// Checks the model against its input shapes with one example of zeros (which also gives
// the output shapes), then starts its batcher. Throws axon::Error naming the problem.
std::shared_ptr<ServedVersion> serve_version(const std::string& name, int64_t version, std::shared_ptr<Model> model,
                                             const std::vector<Shape>& input_shapes, const BatchingOptions& options,
                                             ServerMetrics& metrics);

// Names go into URL paths and Prometheus labels verbatim: letters, digits, '_', '-', '.'.
bool valid_model_name(const std::string& name);

// A model's own input shapes; throws when it is not built.
std::vector<Shape> built_input_shapes(const std::string& name, const Model& model);

}  // namespace axon::serve
