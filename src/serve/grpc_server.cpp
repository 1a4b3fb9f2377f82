#include "grpc_server.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstring>

#include "axon/error.h"
#include "axon/version.h"
#include "grpc_service.grpc.pb.h"
#include "http_error.h"
#include "metrics.h"
#include "model_table.h"
#include "protocol.h"

namespace axon::serve {

namespace {

using Clock = std::chrono::steady_clock;

grpc::Status status_of(const HttpError& e) {
  const grpc::StatusCode code = e.status == 404   ? grpc::StatusCode::NOT_FOUND
                                : e.status == 503 ? grpc::StatusCode::UNAVAILABLE
                                : e.status >= 500 ? grpc::StatusCode::INTERNAL
                                                  : grpc::StatusCode::INVALID_ARGUMENT;
  return {code, e.what()};
}

[[noreturn]] void bad(const std::string& message) { throw HttpError(400, message); }

// Raw little-endian elements of one datatype -> float32.
template <class T>
void convert_raw(const std::string& bytes, std::vector<float>& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    T value;
    std::memcpy(&value, bytes.data() + i * sizeof(T), sizeof(T));
    out[i] = static_cast<float>(value);
  }
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    magnitude = mantissa ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
  return sign ? -magnitude : magnitude;
}

size_t element_bytes(const std::string& datatype) {
  if (datatype == "INT8" || datatype == "UINT8") return 1;
  if (datatype == "FP16" || datatype == "INT16" || datatype == "UINT16") return 2;
  if (datatype == "FP32" || datatype == "INT32" || datatype == "UINT32") return 4;
  return 8;  // FP64, INT64, UINT64
}

void from_raw(const std::string& datatype, const std::string& bytes, std::vector<float>& out) {
  if (datatype == "FP32") return convert_raw<float>(bytes, out);
  if (datatype == "FP64") return convert_raw<double>(bytes, out);
  if (datatype == "INT8") return convert_raw<int8_t>(bytes, out);
  if (datatype == "INT16") return convert_raw<int16_t>(bytes, out);
  if (datatype == "INT32") return convert_raw<int32_t>(bytes, out);
  if (datatype == "INT64") return convert_raw<int64_t>(bytes, out);
  if (datatype == "UINT8") return convert_raw<uint8_t>(bytes, out);
  if (datatype == "UINT16") return convert_raw<uint16_t>(bytes, out);
  if (datatype == "UINT32") return convert_raw<uint32_t>(bytes, out);
  if (datatype == "UINT64") return convert_raw<uint64_t>(bytes, out);
  for (size_t i = 0; i < out.size(); ++i) {  // FP16
    uint16_t h;
    std::memcpy(&h, bytes.data() + i * 2, 2);
    out[i] = half_to_float(h);
  }
}

// Typed contents -> float32, each value range-checked against the datatype.
template <class Repeated>
void from_contents(const Repeated& values, const NumericType& type, const std::string& who, std::vector<float>& out) {
  if (static_cast<size_t>(values.size()) != out.size())
    bad(who + "contents hold " + std::to_string(values.size()) + " values; the shape needs " +
        std::to_string(out.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    const double value = static_cast<double>(values[static_cast<int>(i)]);
    if (!(value >= type.lowest && value <= type.highest))
      bad(who + "contents[" + std::to_string(i) + "] is outside " + type.name + "'s range");
    out[i] = static_cast<float>(value);
  }
}

void read_contents(const inference::InferTensorContents& c, const NumericType& type, const std::string& who,
                   std::vector<float>& out) {
  const std::string name = type.name;
  if (name == "FP32") return from_contents(c.fp32_contents(), type, who, out);
  if (name == "FP64") return from_contents(c.fp64_contents(), type, who, out);
  if (name == "INT8" || name == "INT16" || name == "INT32") return from_contents(c.int_contents(), type, who, out);
  if (name == "INT64") return from_contents(c.int64_contents(), type, who, out);
  if (name == "UINT8" || name == "UINT16" || name == "UINT32") return from_contents(c.uint_contents(), type, who, out);
  if (name == "UINT64") return from_contents(c.uint64_contents(), type, who, out);
  bad(who + "FP16 has no typed contents field; send it in raw_input_contents");
}

// BYTES elements in raw_input_contents, as Triton sends them: each a 4-byte little-endian
// length, then that many bytes.
std::vector<std::string> length_prefixed(const std::string& bytes, const std::string& who) {
  std::vector<std::string> out;
  for (size_t at = 0; at < bytes.size();) {
    if (bytes.size() - at < 4) bad(who + "raw BYTES end inside an element's 4-byte length");
    uint32_t length = 0;
    for (int b = 3; b >= 0; --b) length = (length << 8) | static_cast<unsigned char>(bytes[at + static_cast<size_t>(b)]);
    at += 4;
    if (length > bytes.size() - at) bad(who + "raw BYTES element of " + std::to_string(length) + " bytes overruns the input");
    out.emplace_back(bytes, at, length);
    at += length;
  }
  return out;
}

// The request's tensors, in the model's input order, each (rows, shape...) float32.
std::vector<Tensor> read_inputs(const inference::ModelInferRequest& request, const ServedVersion& served) {
  const auto& specs = served.inputs;
  const bool raw = request.raw_input_contents_size() > 0;
  if (static_cast<size_t>(request.inputs_size()) != specs.size())
    bad("the model takes " + std::to_string(specs.size()) + " inputs, got " + std::to_string(request.inputs_size()));
  if (raw && request.raw_input_contents_size() != request.inputs_size())
    bad("raw_input_contents must hold one entry per input");
  std::vector<Tensor> inputs(specs.size());
  for (int i = 0; i < request.inputs_size(); ++i) {
    const inference::ModelInferRequest::InferInputTensor& sent = request.inputs(i);
    size_t k = 0;
    if (specs.size() > 1) {  // a model of one input takes its tensor under any name
      while (k < specs.size() && specs[k].name != sent.name()) ++k;
      if (k == specs.size()) bad("unknown input \"" + sent.name() + "\"");
      if (inputs[k].defined()) bad("input \"" + sent.name() + "\" is given twice");
    }
    const std::string who = "input \"" + specs[k].name + "\": ";
    std::vector<int64_t> dims(sent.shape().begin(), sent.shape().end());
    if (sent.datatype() == "BYTES") {  // text, one string per row
      std::vector<std::string> rows = raw ? length_prefixed(request.raw_input_contents(i), who)
                                          : std::vector<std::string>(sent.contents().bytes_contents().begin(),
                                                                     sent.contents().bytes_contents().end());
      inputs[k] = vectorize_text(rows, dims, specs[k], who);
      continue;
    }
    const NumericType* type = numeric_type(sent.datatype());
    if (!type) bad(who + "datatype \"" + sent.datatype() + "\" is not supported");
    const std::vector<int64_t>& want = specs[k].shape.dims();
    if (dims.size() != want.size() + 1 || dims[0] < 1 || !std::equal(want.begin(), want.end(), dims.begin() + 1)) {
      std::vector<int64_t> expected = want;
      expected.insert(expected.begin(), -1);
      bad(who + "shape " + shape_text(dims) + " does not match the model's " + shape_text(expected));
    }
    const int64_t per_row = std::max<int64_t>(specs[k].shape.numel(), 1);
    if (dims[0] > (int64_t{1} << 36) / per_row) bad(who + "too many rows");
    std::vector<float> values(static_cast<size_t>(dims[0] * per_row));
    if (raw) {
      const std::string& bytes = request.raw_input_contents(i);
      if (bytes.size() != values.size() * element_bytes(sent.datatype()))
        bad(who + "raw_input_contents holds " + std::to_string(bytes.size()) + " bytes; the shape as " +
            sent.datatype() + " needs " + std::to_string(values.size() * element_bytes(sent.datatype())));
      from_raw(sent.datatype(), bytes, values);
    } else {
      read_contents(sent.contents(), *type, who, values);
    }
    inputs[k] = Tensor::from(values, Shape(dims));
  }
  for (const Tensor& t : inputs)
    if (t.dim(0) != inputs[0].dim(0)) bad("the inputs hold different numbers of rows");
  return inputs;
}

void add_metadata(google::protobuf::RepeatedPtrField<inference::ModelMetadataResponse::TensorMetadata>* list,
                  const std::vector<TensorSpec>& specs) {
  for (const TensorSpec& spec : specs) {
    auto* t = list->Add();
    t->set_name(spec.name);
    t->set_datatype("FP32");
    t->add_shape(-1);
    for (const int64_t d : spec.shape.dims()) t->add_shape(d);
  }
}

class Service final : public inference::GRPCInferenceService::CallbackService {
 public:
  Service(ModelTable& table, ServerMetrics& metrics, const std::atomic<bool>& ready, std::atomic<int64_t>& in_flight)
      : table_(table), metrics_(metrics), ready_(ready), in_flight_(in_flight) {}

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* context, const inference::ServerLiveRequest*,
                                       inference::ServerLiveResponse* response) override {
    response->set_live(true);
    return finish(context, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* context, const inference::ServerReadyRequest*,
                                        inference::ServerReadyResponse* response) override {
    response->set_ready(ready_);
    return finish(context, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* context,
                                       const inference::ModelReadyRequest* request,
                                       inference::ModelReadyResponse* response) override {
    return answer(context, [&] {
      table_.find(request->name(), requested_version(request->version()));
      response->set_ready(ready_);
    });
  }
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* context,
                                           const inference::ServerMetadataRequest*,
                                           inference::ServerMetadataResponse* response) override {
    response->set_name("axon");
    response->set_version(axon::version());
    return finish(context, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override {
    return answer(context, [&] {
      const std::shared_ptr<const ModelTable::Models> models = table_.snapshot();
      const std::shared_ptr<ServedVersion> served =
          ModelTable::find(*models, request->name(), requested_version(request->version()));
      response->set_name(served->name);
      for (const auto& [number, v] : ModelTable::versions(*models, served->name))
        response->add_versions(std::to_string(number));
      response->set_platform("axon");
      add_metadata(response->mutable_inputs(), served->inputs);
      add_metadata(response->mutable_outputs(), served->outputs);
    });
  }

  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    const auto start = Clock::now();
    std::string model = "unknown";
    int64_t version = 0;
    try {
      if (!ready_) throw HttpError(503, "the server is shutting down");
      const std::shared_ptr<ServedVersion> served =
          table_.find(request->model_name(), requested_version(request->model_version()));
      model = served->name;
      version = served->version;
      std::vector<Tensor> inputs = read_inputs(*request, *served);
      std::vector<size_t> wanted;
      for (const auto& output : request->outputs()) {
        size_t k = 0;
        while (k < served->outputs.size() && served->outputs[k].name != output.name()) ++k;
        if (k == served->outputs.size()) bad("unknown output \"" + output.name() + "\" requested");
        wanted.push_back(k);
      }
      if (wanted.empty())
        for (size_t k = 0; k < served->outputs.size(); ++k) wanted.push_back(k);
      const bool raw = request->raw_input_contents_size() > 0;  // answer in the form asked in
      ++in_flight_;
      // Holds copies, never the version: its last reference must not drop on its batcher.
      auto done = [this, reactor, request, response, raw, wanted, start, model, version, outputs = served->outputs](
                      std::vector<Tensor> values, std::exception_ptr error) {
        grpc::Status status = grpc::Status::OK;
        int code = 200;
        if (error) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            status = {grpc::StatusCode::INTERNAL, e.what()};
            code = 500;
          }
        } else {
          response->set_model_name(model);
          response->set_model_version(std::to_string(version));
          response->set_id(request->id());
          for (const size_t k : wanted) {
            auto* out = response->add_outputs();
            out->set_name(outputs[k].name);
            out->set_datatype("FP32");
            for (const int64_t d : values[k].shape().dims()) out->add_shape(d);
            const float* data = values[k].data<float>();
            if (raw)
              response->add_raw_output_contents(reinterpret_cast<const char*>(data),
                                                static_cast<size_t>(values[k].numel()) * sizeof(float));
            else
              out->mutable_contents()->mutable_fp32_contents()->Add(data, data + values[k].numel());
          }
        }
        metrics_.record_request(model, version, code, std::chrono::duration<double>(Clock::now() - start).count());
        --in_flight_;
        reactor->Finish(status);
      };
      if (!served->batcher->submit(std::move(inputs), std::move(done))) {
        --in_flight_;
        throw HttpError(503, "the queue is full; retry later");
      }
    } catch (const HttpError& e) {
      metrics_.record_request(model, version, e.status, std::chrono::duration<double>(Clock::now() - start).count());
      reactor->Finish(status_of(e));
    } catch (const std::exception& e) {
      reactor->Finish({grpc::StatusCode::INTERNAL, e.what()});
    }
    return reactor;
  }

 private:
  static grpc::ServerUnaryReactor* finish(grpc::CallbackServerContext* context, const grpc::Status& status) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }
  template <class Body>
  grpc::ServerUnaryReactor* answer(grpc::CallbackServerContext* context, Body&& body) {
    try {
      body();
      return finish(context, grpc::Status::OK);
    } catch (const HttpError& e) {
      return finish(context, status_of(e));
    }
  }

  ModelTable& table_;
  ServerMetrics& metrics_;
  const std::atomic<bool>& ready_;
  std::atomic<int64_t>& in_flight_;
};

}  // namespace

struct GrpcServer::Impl {
  Service service;
  int64_t max_message_bytes;
  std::unique_ptr<grpc::Server> server;
};

GrpcServer::GrpcServer(ModelTable& table, ServerMetrics& metrics, const std::atomic<bool>& ready,
                       std::atomic<int64_t>& in_flight, int64_t max_message_bytes)
    : impl_(new Impl{Service(table, metrics, ready, in_flight), max_message_bytes, nullptr}) {}

GrpcServer::~GrpcServer() { stop(); }

int GrpcServer::start(const std::string& host, int port) {
  grpc::ServerBuilder builder;
  int bound = 0;
  const std::string address =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound);
  builder.RegisterService(&impl_->service);
  const int limit = static_cast<int>(std::min<int64_t>(impl_->max_message_bytes, INT32_MAX));
  builder.SetMaxReceiveMessageSize(limit);
  builder.SetMaxSendMessageSize(INT32_MAX);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || bound == 0) fail("serve: cannot listen for gRPC on ", address);
  return bound;
}

void GrpcServer::stop() {
  if (!impl_->server) return;
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(30));
  impl_->server->Wait();
  impl_->server.reset();
}

}  // namespace axon::serve
