#include "protocol.h"

#include <nlohmann/json.hpp>

#include "http_error.h"
#include "json_reader.h"

namespace axon::serve {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad_request(const std::string& message) { throw HttpError(400, message); }

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

// (rows, input_shape...) from `values`, which must hold exactly that many numbers.
Tensor rows_tensor(std::vector<float>&& values, int64_t rows, const Shape& input_shape) {
  std::vector<int64_t> dims = input_shape.dims();
  dims.insert(dims.begin(), rows);
  return Tensor::from(values, Shape(dims));
}

bool is_numeric_datatype(const std::string& datatype) {
  for (const char* known : {"FP32", "FP16", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"})
    if (datatype == known) return true;
  return false;
}

// An "id" may hold invalid UTF-8 (the reader passes bytes through): it becomes U+FFFD.
std::string text(const json& body) { return body.dump(-1, ' ', false, json::error_handler_t::replace); }

void write_flat(json& out, const Tensor& t) {
  out = json::array();
  const float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(p[i]);
}

}  // namespace

InferRequest parse_v2_infer(std::string_view body, const Shape& input_shape) {
  JsonReader reader(body, kMaxJsonDepth);
  InferRequest result;
  std::vector<int64_t> shape;
  std::vector<float> values;
  size_t given = 0, inputs = 0;
  std::string datatype;
  bool has_shape = false, has_data = false;
  if (reader.peek() != '{') {
    reader.skip();  // reports malformed or too deeply nested JSON first
    bad_request("the request must be a JSON object");
  }
  reader.object([&](const std::string& key) {
    if (key == "id") {
      if (reader.peek() != '"') bad_request("\"id\" must be a string");
      result.id = reader.string();
    } else if (key == "inputs") {
      if (reader.peek() != '[') bad_request("\"inputs\" must be a list of exactly one tensor");
      reader.array([&] {
        if (++inputs > 1 || reader.peek() != '{') bad_request("\"inputs\" must be a list of exactly one tensor");
        reader.object([&](const std::string& field) {
          if (field == "shape") {
            if (reader.peek() != '[') bad_request("\"shape\" must be a list of integers");
            reader.array([&] { shape.push_back(reader.integer()); });
            has_shape = true;
          } else if (field == "datatype") {
            if (reader.peek() != '"') bad_request("\"datatype\" must be a string");
            datatype = reader.string();
          } else if (field == "data") {
            given = reader.numbers(values, "\"data\"");
            has_data = true;
          } else {
            reader.skip();  // "name", "parameters"
          }
        });
      });
    } else if (key == "outputs") {
      if (reader.peek() != '[') bad_request("\"outputs\" must be a list");
      reader.array([&] {
        if (reader.peek() != '{') bad_request("unknown output requested; the model has one output, \"output\"");
        std::string name;
        reader.object([&](const std::string& field) {
          if (field == "name" && reader.peek() == '"') name = reader.string();
          else reader.skip();
        });
        if (name != "output") bad_request("unknown output requested; the model has one output, \"output\"");
      });
    } else {
      reader.skip();  // "parameters" and extensions
    }
  });
  reader.finish();
  if (inputs != 1) bad_request("\"inputs\" must be a list of exactly one tensor");
  if (!has_shape || !has_data || datatype.empty()) bad_request("each input needs \"name\", \"shape\", \"datatype\" and \"data\"");
  if (!is_numeric_datatype(datatype))
    bad_request("datatype \"" + datatype + "\" is not supported; send FP32 (FP16, FP64, INT* and UINT* are converted to FP32)");
  std::vector<int64_t> model_shape = input_shape.dims();
  model_shape.insert(model_shape.begin(), -1);
  if (shape.size() != model_shape.size() || !std::equal(shape.begin() + 1, shape.end(), model_shape.begin() + 1) || shape[0] < 1)
    bad_request("input shape " + shape_text(shape) + " does not match the model's " + shape_text(model_shape));
  const int64_t per_row = std::max<int64_t>(input_shape.numel(), 1);
  if (shape[0] > (int64_t{1} << 40) / per_row || static_cast<size_t>(shape[0] * per_row) != given)
    bad_request("\"data\" holds " + std::to_string(given) + " values; shape " + shape_text(shape) + " needs " +
                std::to_string(shape[0] > (int64_t{1} << 40) / per_row ? -1 : shape[0] * per_row));
  result.input = rows_tensor(std::move(values), shape[0], input_shape);
  return result;
}

std::string v2_infer_response(const std::string& model, const std::optional<std::string>& id, const Tensor& output) {
  json response = {{"model_name", model}, {"model_version", "1"}};
  if (id) response["id"] = *id;
  json out = {{"name", "output"}, {"shape", output.shape().dims()}, {"datatype", "FP32"}};
  write_flat(out["data"], output);
  response["outputs"] = json::array({out});
  return text(response);
}

TfPredictRequest parse_tf_predict(std::string_view body, const Shape& input_shape) {
  JsonReader reader(body, kMaxJsonDepth);
  const size_t per_row = static_cast<size_t>(input_shape.numel());
  std::vector<float> values;
  int64_t instances = 0;
  int forms = 0;  // how many of "instances" and "inputs" were given
  bool columnar = false;
  if (reader.peek() != '{') {
    reader.skip();
    bad_request("the request must be {\"instances\": [...]}");
  }
  reader.object([&](const std::string& key) {
    if (key != "instances" && key != "inputs") return reader.skip();  // "signature_name"
    if (++forms > 1) bad_request("give either \"instances\" or \"inputs\", once");
    columnar = key == "inputs";
    // With one unnamed input, the columnar tensor is the list of instances.
    if (reader.peek() != '[') bad_request("\"" + key + "\" must be a list (named inputs are not supported)");
    reader.array([&] {
      const size_t given = reader.numbers(values, "an instance");
      if (given != per_row)
        bad_request("instance " + std::to_string(instances) + " holds " + std::to_string(given) + " values; the model takes " +
                    std::to_string(per_row) + " (shape " + shape_text(input_shape.dims()) + ")");
      ++instances;
    });
  });
  reader.finish();
  if (forms == 0 || instances == 0) bad_request("the request must be {\"instances\": [...]} with at least one instance");
  return {rows_tensor(std::move(values), instances, input_shape), columnar};
}

std::string tf_predict_response(const Tensor& output, bool columnar) {
  json predictions = json::array();
  const int64_t rows = output.dim(0), width = rows ? output.numel() / rows : 0;
  const float* p = output.data<float>();
  for (int64_t r = 0; r < rows; ++r) predictions.push_back(std::vector<float>(p + r * width, p + (r + 1) * width));
  return json{{columnar ? "outputs" : "predictions", predictions}}.dump();
}

}  // namespace axon::serve
