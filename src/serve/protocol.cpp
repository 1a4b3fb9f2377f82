#include "protocol.h"

#include <nlohmann/json.hpp>

#include "http_error.h"

namespace axon::serve {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad_request(const std::string& message) { throw HttpError(400, message); }

// Parses JSON, refusing documents nested deeper than kMaxJsonDepth while parsing.
json parse_bounded(std::string_view body) {
  const auto depth_guard = [](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) && depth >= kMaxJsonDepth)
      bad_request("JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    return true;
  };
  try {
    return json::parse(body.begin(), body.end(), depth_guard);
  } catch (const json::exception& e) {
    bad_request(std::string("malformed JSON: ") + e.what());
  }
}

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

// Appends the numbers of a flat or nested list to `out` (float32), keeping at most
// `limit` of them; returns how many there were. Anything but numbers is a 400.
size_t flatten_numbers(const json& value, std::vector<float>& out, size_t limit, const char* field) {
  if (value.is_number()) {
    if (out.size() < limit) out.push_back(value.get<float>());
    return 1;
  }
  if (!value.is_array()) bad_request(std::string(field) + " must hold only numbers, got " + value.dump().substr(0, 40));
  size_t count = 0;
  for (const json& element : value) count += flatten_numbers(element, out, limit, field);
  return count;
}

// (rows, input_shape...) from `values`, which must hold exactly that many numbers.
Tensor rows_tensor(std::vector<float>&& values, int64_t rows, const Shape& input_shape) {
  std::vector<int64_t> dims = input_shape.dims();
  dims.insert(dims.begin(), rows);
  return Tensor::from(values, Shape(dims));
}

void write_flat(json& out, const Tensor& t) {
  out = json::array();
  const float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(p[i]);
}

}  // namespace

InferRequest parse_v2_infer(std::string_view body, const Shape& input_shape) {
  const json request = parse_bounded(body);
  if (!request.is_object()) bad_request("the request must be a JSON object");
  InferRequest result;
  if (request.contains("id")) {
    if (!request["id"].is_string()) bad_request("\"id\" must be a string");
    result.id = request["id"].get<std::string>();
  }
  if (!request.contains("inputs") || !request["inputs"].is_array() || request["inputs"].size() != 1)
    bad_request("\"inputs\" must be a list of exactly one tensor");
  const json& input = request["inputs"][0];
  if (!input.is_object() || !input.contains("shape") || !input.contains("datatype") || !input.contains("data"))
    bad_request("each input needs \"name\", \"shape\", \"datatype\" and \"data\"");
  if (input["datatype"] != "FP32" && input["datatype"] != "FP64") bad_request("datatype " + input["datatype"].dump() + " is not supported; send FP32");
  std::vector<int64_t> shape;
  if (!input["shape"].is_array()) bad_request("\"shape\" must be a list of integers");
  for (const json& d : input["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) bad_request("\"shape\" must be a list of non-negative integers");
    shape.push_back(d.get<int64_t>());
  }
  std::vector<int64_t> model_shape = input_shape.dims();
  model_shape.insert(model_shape.begin(), -1);
  if (shape.size() != model_shape.size() || !std::equal(shape.begin() + 1, shape.end(), model_shape.begin() + 1) || shape[0] < 1)
    bad_request("input shape " + shape_text(shape) + " does not match the model's " + shape_text(model_shape));
  const int64_t per_row = input_shape.numel();
  if (shape[0] > (int64_t{1} << 40) / std::max<int64_t>(per_row, 1)) bad_request("input shape " + shape_text(shape) + " is too large");
  const size_t count = static_cast<size_t>(shape[0] * per_row);
  std::vector<float> values;
  values.reserve(std::min<size_t>(count, input["data"].is_array() ? input["data"].size() * static_cast<size_t>(per_row) : 1));
  const size_t given = flatten_numbers(input["data"], values, count, "\"data\"");
  if (given != count)
    bad_request("\"data\" holds " + std::to_string(given) + " values; shape " + shape_text(shape) + " needs " + std::to_string(count));
  if (request.contains("outputs")) {
    if (!request["outputs"].is_array()) bad_request("\"outputs\" must be a list");
    for (const json& o : request["outputs"])
      if (!o.is_object() || o.value("name", "") != "output") bad_request("unknown output requested; the model has one output, \"output\"");
  }
  result.input = rows_tensor(std::move(values), shape[0], input_shape);
  return result;
}

std::string v2_infer_response(const std::string& model, const std::optional<std::string>& id, const Tensor& output) {
  json response = {{"model_name", model}, {"model_version", "1"}};
  if (id) response["id"] = *id;
  json out = {{"name", "output"}, {"shape", output.shape().dims()}, {"datatype", "FP32"}};
  write_flat(out["data"], output);
  response["outputs"] = json::array({out});
  return response.dump();
}

Tensor parse_tf_predict(std::string_view body, const Shape& input_shape) {
  const json request = parse_bounded(body);
  if (!request.is_object() || !request.contains("instances") || !request["instances"].is_array() || request["instances"].empty())
    bad_request("the request must be {\"instances\": [...]} with at least one instance");
  const json& instances = request["instances"];
  const int64_t per_row = input_shape.numel();
  if (static_cast<int64_t>(instances.size()) > (int64_t{1} << 40) / std::max<int64_t>(per_row, 1)) bad_request("too many instances");
  std::vector<float> values;
  values.reserve(instances.size() * static_cast<size_t>(per_row));
  for (size_t i = 0; i < instances.size(); ++i) {
    const size_t given = flatten_numbers(instances[i], values, values.size() + static_cast<size_t>(per_row), "an instance");
    if (given != static_cast<size_t>(per_row))
      bad_request("instance " + std::to_string(i) + " holds " + std::to_string(given) + " values; the model takes " +
                  std::to_string(per_row) + " (shape " + shape_text(input_shape.dims()) + ")");
  }
  return rows_tensor(std::move(values), static_cast<int64_t>(instances.size()), input_shape);
}

std::string tf_predict_response(const Tensor& output) {
  json predictions = json::array();
  const int64_t rows = output.dim(0), width = rows ? output.numel() / rows : 0;
  const float* p = output.data<float>();
  for (int64_t r = 0; r < rows; ++r) predictions.push_back(std::vector<float>(p + r * width, p + (r + 1) * width));
  return json{{"predictions", predictions}}.dump();
}

}  // namespace axon::serve
