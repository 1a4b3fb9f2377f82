#include "protocol.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "http_error.h"
#include "json_reader.h"

namespace axon::serve {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad_request(const std::string& message) { throw HttpError(400, message); }

// (rows, input_shape...) from `values`, which must hold exactly that many numbers.
Tensor rows_tensor(std::vector<float>&& values, int64_t rows, const Shape& input_shape) {
  std::vector<int64_t> dims = input_shape.dims();
  dims.insert(dims.begin(), rows);
  return Tensor::from(values, Shape(dims));
}

constexpr double kFloatMax = 3.4028234663852886e38;
constexpr NumericType kNumericTypes[] = {
    {"FP32", -kFloatMax, kFloatMax, false},
    {"FP64", -kFloatMax, kFloatMax, false},  // read into float32 all the same
    {"FP16", -65504, 65504, false},
    {"INT8", -128, 127, true},
    {"INT16", -32768, 32767, true},
    {"INT32", -2147483648.0, 2147483647.0, true},
    {"INT64", -9223372036854775808.0, 9223372036854775807.0, true},
    {"UINT8", 0, 255, true},
    {"UINT16", 0, 65535, true},
    {"UINT32", 0, 4294967295.0, true},
    {"UINT64", 0, 18446744073709551615.0, true},
};

std::string number_text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// Every value must be one the datatype holds (and one float32 holds): 400 naming the
// first offending element found otherwise.
void check_values(const NumberStats& stats, const NumericType& type, const std::string& who, const char* field) {
  const auto at = [&](size_t i) { return who + field + "[" + std::to_string(i) + "]"; };
  if (stats.first_not_float != NumberStats::none)
    bad_request(at(stats.first_not_float) + " is beyond float32's range (+-3.4e38)");
  if (type.integer && stats.first_fraction != NumberStats::none)
    bad_request(at(stats.first_fraction) + " is not a whole number, as datatype " + type.name + " requires");
  if (stats.min_at != NumberStats::none && stats.min < type.lowest)
    bad_request(at(stats.min_at) + " = " + number_text(stats.min) + " is below " + type.name + "'s range [" +
                number_text(type.lowest) + ", " + number_text(type.highest) + "]");
  if (stats.max_at != NumberStats::none && stats.max > type.highest)
    bad_request(at(stats.max_at) + " = " + number_text(stats.max) + " is above " + type.name + "'s range [" +
                number_text(type.lowest) + ", " + number_text(type.highest) + "]");
}

// An "id" may hold invalid UTF-8 (the reader passes bytes through): it becomes U+FFFD.
std::string text(const json& body) { return body.dump(-1, ' ', false, json::error_handler_t::replace); }

void write_flat(json& out, const Tensor& t) {
  out = json::array();
  const float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(p[i]);
}

}  // namespace

const NumericType* numeric_type(const std::string& datatype) {
  for (const NumericType& type : kNumericTypes)
    if (datatype == type.name) return &type;
  return nullptr;
}

namespace {

// One tensor of the "inputs" list as it was sent.
struct SentTensor {
  std::string name, datatype;
  std::vector<int64_t> shape;
  std::vector<float> values;
  std::vector<std::string> strings;  // BYTES elements
  NumberStats stats;
  size_t given = 0;
  bool has_shape = false, has_data = false;
};

// "data": numbers, or strings (BYTES), either in nested lists.
void read_data(JsonReader& reader, SentTensor& t) {
  if (reader.peek() == '"') {
    t.strings.push_back(reader.string());
  } else if (reader.peek() == '[') {
    reader.array([&] { read_data(reader, t); });
  } else {
    reader.numbers(t.values, "\"data\"", t.stats);
  }
  t.given = t.values.size() + t.strings.size();
}

SentTensor read_input(JsonReader& reader) {
  SentTensor t;
  if (reader.peek() != '{') bad_request("each of \"inputs\" must be an object");
  reader.object([&](const std::string& field) {
    if (field == "name") {
      if (reader.peek() != '"') bad_request("an input's \"name\" must be a string");
      t.name = reader.string();
    } else if (field == "shape") {
      if (reader.peek() != '[') bad_request("\"shape\" must be a list of integers");
      reader.array([&] { t.shape.push_back(reader.integer()); });
      t.has_shape = true;
    } else if (field == "datatype") {
      if (reader.peek() != '"') bad_request("\"datatype\" must be a string");
      t.datatype = reader.string();
    } else if (field == "data") {
      read_data(reader, t);
      t.has_data = true;
    } else {
      reader.skip();  // "parameters"
    }
  });
  return t;
}

// The sent tensor as (rows, spec.shape...) float32, checked against the spec.
Tensor checked_input(SentTensor& t, const TensorSpec& spec) {
  const std::string who = "input \"" + spec.name + "\": ";
  if (!t.has_shape || !t.has_data || t.datatype.empty())
    bad_request(who + "needs \"name\", \"shape\", \"datatype\" and \"data\"");
  if (t.datatype == "BYTES") {
    if (!t.values.empty()) bad_request(who + "BYTES \"data\" must hold strings only");
    return vectorize_text(t.strings, t.shape, spec, who);
  }
  const NumericType* type = numeric_type(t.datatype);
  if (!type)
    bad_request(who + "datatype \"" + t.datatype +
                "\" is not supported; send FP32 (FP16, FP64, INT* and UINT* are converted to FP32)");
  if (!t.strings.empty()) bad_request(who + "\"data\" holds strings; send them as datatype BYTES");
  check_values(t.stats, *type, who, "data");
  std::vector<int64_t> model_shape = spec.shape.dims();
  model_shape.insert(model_shape.begin(), -1);
  const std::vector<int64_t>& shape = t.shape;
  if (shape.size() != model_shape.size() || !std::equal(shape.begin() + 1, shape.end(), model_shape.begin() + 1) ||
      shape[0] < 1)
    bad_request(who + "shape " + shape_text(shape) + " does not match the model's " + shape_text(model_shape));
  const int64_t per_row = std::max<int64_t>(spec.shape.numel(), 1);
  if (shape[0] > (int64_t{1} << 40) / per_row || static_cast<size_t>(shape[0] * per_row) != t.given)
    bad_request(who + "\"data\" holds " + std::to_string(t.given) + " values; shape " + shape_text(shape) + " needs " +
                std::to_string(shape[0] > (int64_t{1} << 40) / per_row ? -1 : shape[0] * per_row));
  return rows_tensor(std::move(t.values), shape[0], spec.shape);
}

std::string names_of(const std::vector<TensorSpec>& specs) {
  std::string names;
  for (const TensorSpec& s : specs) names += (names.empty() ? "\"" : ", \"") + s.name + "\"";
  return names;
}

}  // namespace

Tensor vectorize_text(const std::vector<std::string>& rows, const std::vector<int64_t>& shape, const TensorSpec& spec,
                      const std::string& who) {
  if (shape.empty() || shape[0] < 1 || shape.size() > 2 || (shape.size() == 2 && shape[1] != 1) ||
      static_cast<size_t>(shape[0]) != rows.size())
    bad_request(who + "BYTES input needs shape [rows] or [rows, 1] with one string per row; got shape " +
                shape_text(shape) + " and " + std::to_string(rows.size()) + " strings");
  if (!spec.text || spec.shape.rank() != 1)
    bad_request(who + "takes numbers, not text (BYTES): this model does not begin with a TextVectorization layer");
  std::vector<std::vector<int64_t>> ids;
  for (const std::string& row : rows) ids.push_back(spec.text->ids(row));
  return pad_sequences(ids, spec.shape[0], "post", "post");
}

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

InferRequest parse_v2_infer(std::string_view body, const std::vector<TensorSpec>& inputs,
                            const std::vector<TensorSpec>& outputs) {
  JsonReader reader(body, kMaxJsonDepth);
  InferRequest result;
  std::vector<SentTensor> sent;
  bool has_inputs = false;
  if (reader.peek() != '{') {
    reader.skip();  // reports malformed or too deeply nested JSON first
    bad_request("the request must be a JSON object");
  }
  reader.object([&](const std::string& key) {
    if (key == "id") {
      if (reader.peek() != '"') bad_request("\"id\" must be a string");
      result.id = reader.string();
    } else if (key == "inputs") {
      if (reader.peek() != '[') bad_request("\"inputs\" must be a list of tensors");
      has_inputs = true;
      reader.array([&] {
        if (sent.size() >= inputs.size())
          bad_request("\"inputs\" holds more tensors than the model's " + std::to_string(inputs.size()) + " (" +
                      names_of(inputs) + ")");
        sent.push_back(read_input(reader));
      });
    } else if (key == "outputs") {
      if (reader.peek() != '[') bad_request("\"outputs\" must be a list");
      reader.array([&] {
        std::string name;
        if (reader.peek() == '{')
          reader.object([&](const std::string& field) {
            if (field == "name" && reader.peek() == '"')
              name = reader.string();
            else
              reader.skip();
          });
        else
          reader.skip();
        size_t k = 0;
        while (k < outputs.size() && outputs[k].name != name) ++k;
        if (k == outputs.size())
          bad_request("unknown output \"" + name + "\" requested; the model's outputs are " + names_of(outputs));
        result.outputs.push_back(k);
      });
    } else {
      reader.skip();  // "parameters" and extensions
    }
  });
  reader.finish();
  if (!has_inputs || sent.size() != inputs.size())
    bad_request("\"inputs\" must hold the model's " + std::to_string(inputs.size()) + " input" +
                (inputs.size() == 1 ? "" : "s") + " (" + names_of(inputs) + "), got " + std::to_string(sent.size()));
  result.inputs.resize(inputs.size());
  for (SentTensor& t : sent) {
    size_t k = 0;
    if (inputs.size() > 1) {  // a model of one input takes its tensor under any name
      while (k < inputs.size() && inputs[k].name != t.name) ++k;
      if (k == inputs.size())
        bad_request("unknown input \"" + t.name + "\"; the model's inputs are " + names_of(inputs));
      if (result.inputs[k].defined()) bad_request("input \"" + t.name + "\" is given twice");
    }
    result.inputs[k] = checked_input(t, inputs[k]);
  }
  for (const Tensor& t : result.inputs)
    if (t.dim(0) != result.inputs[0].dim(0)) bad_request("the inputs hold different numbers of rows");
  return result;
}

std::string v2_infer_response(const std::string& model, int64_t version, const std::optional<std::string>& id,
                              const std::vector<TensorSpec>& outputs, const std::vector<Tensor>& values,
                              const std::vector<size_t>& wanted) {
  json response = {{"model_name", model}, {"model_version", std::to_string(version)}};
  if (id) response["id"] = *id;
  response["outputs"] = json::array();
  auto add = [&](size_t k) {
    json out = {{"name", outputs[k].name}, {"shape", values[k].shape().dims()}, {"datatype", "FP32"}};
    write_flat(out["data"], values[k]);
    response["outputs"].push_back(std::move(out));
  };
  if (wanted.empty())
    for (size_t k = 0; k < values.size(); ++k) add(k);
  for (size_t k : wanted) add(k);
  return text(response);
}

TfPredictRequest parse_tf_predict(std::string_view body, const Shape& input_shape) {
  JsonReader reader(body, kMaxJsonDepth);
  const size_t per_row = static_cast<size_t>(input_shape.numel());
  std::vector<float> values;
  NumberStats stats;
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
      const size_t given = reader.numbers(values, "an instance", stats);
      if (given != per_row)
        bad_request("instance " + std::to_string(instances) + " holds " + std::to_string(given) +
                    " values; the model takes " + std::to_string(per_row) + " (shape " +
                    shape_text(input_shape.dims()) + ")");
      ++instances;
    });
  });
  reader.finish();
  if (forms == 0 || instances == 0)
    bad_request("the request must be {\"instances\": [...]} with at least one instance");
  if (stats.first_not_float != NumberStats::none)
    bad_request("instance " + std::to_string(stats.first_not_float / std::max<size_t>(per_row, 1)) + ", value " +
                std::to_string(stats.first_not_float % std::max<size_t>(per_row, 1)) +
                " is beyond float32's range (+-3.4e38)");
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
