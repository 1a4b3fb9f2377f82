#pragma once
// The request and response bodies of the Open Inference Protocol v2 (KServe, Triton)
// and of TensorFlow Serving's REST predict API. Requests are read with JsonReader
// (strict, depth-bounded, no document built); sizes are checked before a tensor is
// allocated.
#include <optional>
#include <string>
#include <string_view>

#include "axon/tensor.h"

namespace axon::serve {

inline constexpr int kMaxJsonDepth = 64;

struct InferRequest {
  std::optional<std::string> id;
  Tensor input;  // (rows, input_shape...) float32
};

// input_shape: one example, without the batch axis. Throws HttpError(400) naming the problem.
InferRequest parse_v2_infer(std::string_view body, const Shape& input_shape);
std::string v2_infer_response(const std::string& model, const std::optional<std::string>& id, const Tensor& output);

Tensor parse_tf_predict(std::string_view body, const Shape& input_shape);  // {"instances": [...]}
std::string tf_predict_response(const Tensor& output);                    // {"predictions": [...]}

}  // namespace axon::serve
