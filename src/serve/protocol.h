#pragma once
// The request and response bodies of the Open Inference Protocol v2 (KServe, Triton)
// and of TensorFlow Serving's REST predict API. Requests are read with JsonReader
// (strict, depth-bounded, no document built); sizes are checked before a tensor is
// allocated.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "axon/tensor.h"
#include "axon/text.h"

namespace axon::serve {

inline constexpr int kMaxJsonDepth = 64;

// A model's named tensors, one example each (no batch axis).
struct TensorSpec {
  std::string name;
  Shape shape;
  // A model that begins with TextVectorization takes this input as text too: BYTES
  // elements, one string per row, turned into the layer's ids (padded or cut to shape).
  std::shared_ptr<const TextVectorization> text;
};

// A BYTES input of `shape` ([rows] or [rows, 1], one string per row) -> (rows,
// spec.shape) float32 ids by spec.text; HttpError(400) when the shape does not fit the
// strings or the input takes no text. `who` names the input in errors.
Tensor vectorize_text(const std::vector<std::string>& rows, const std::vector<int64_t>& shape, const TensorSpec& spec,
                      const std::string& who);

// The datatypes read as numbers (FP32, FP64, FP16, INT8..INT64, UINT8..UINT64) with the
// values each can hold, FP64's capped at float32's (axon computes in float32).
struct NumericType {
  const char* name;
  double lowest, highest;
  bool integer;
};
const NumericType* numeric_type(const std::string& datatype);  // nullptr: BOOL, BYTES, unknown

// "[-1, 784]": a shape as error messages show it.
std::string shape_text(const std::vector<int64_t>& dims);

struct InferRequest {
  std::optional<std::string> id;
  std::vector<Tensor> inputs;   // in the model's input order, each (rows, shape...) float32
  std::vector<size_t> outputs;  // the outputs asked for (indices), all when none were named
};

// Throws HttpError(400) naming the problem. Every input of the model is needed, by name
// (a model of one input takes its one tensor under any name), with the same rows.
// Datatypes FP32, FP16, FP64, INT8..INT64 and UINT8..UINT64 are read as numbers and
// converted to float32, each value checked against the datatype's range (and float32's),
// and whole for the integer types; BYTES (strings) only where the input takes text
// (TensorSpec::text); BOOL is refused.
InferRequest parse_v2_infer(std::string_view body, const std::vector<TensorSpec>& inputs,
                            const std::vector<TensorSpec>& outputs);
std::string v2_infer_response(const std::string& model, int64_t version, const std::optional<std::string>& id,
                              const std::vector<TensorSpec>& outputs, const std::vector<Tensor>& values,
                              const std::vector<size_t>& wanted);

// TensorFlow Serving's row form {"instances": [...]} answered with {"predictions": [...]},
// or its columnar form {"inputs": [...]} (one unnamed input) answered with {"outputs": [...]}.
struct TfPredictRequest {
  Tensor input;  // (rows, input_shape...) float32
  bool columnar = false;
};
TfPredictRequest parse_tf_predict(std::string_view body, const Shape& input_shape);
std::string tf_predict_response(const Tensor& output, bool columnar);

}  // namespace axon::serve
