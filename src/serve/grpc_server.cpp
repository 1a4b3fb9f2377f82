#include "grpc_server.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "axon/error.h"
#include "axon/version.h"
#include "grpc_service.grpc.pb.h"
#include "http_error.h"
#include "idle_work.h"
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
    for (int b = 3; b >= 0; --b)
      length = (length << 8) | static_cast<unsigned char>(bytes[at + static_cast<size_t>(b)]);
    at += 4;
    if (length > bytes.size() - at)
      bad(who + "raw BYTES element of " + std::to_string(length) + " bytes overruns the input");
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

using AsyncService = inference::GRPCInferenceService::AsyncService;

// One unary call's life on a completion queue: asked for, answered, finished. Each call
// asks for the next of its method as it arrives, so one is always waiting per queue.
class Call {
 public:
  virtual ~Call() = default;
  virtual void proceed(bool ok) = 0;  // its tag came back from the queue
};

// `answer(request, response, finish)` calls finish(status) once, on any thread.
template <class Request, class Response>
class UnaryCall final : public Call {
 public:
  using Finish = std::function<void(const grpc::Status&)>;
  using Answer = std::function<void(const Request&, Response&, Finish)>;
  using Ask = void (AsyncService::*)(grpc::ServerContext*, Request*, grpc::ServerAsyncResponseWriter<Response>*,
                                     grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*);

  static void ask(AsyncService& service, grpc::ServerCompletionQueue& queue, Ask ask, const Answer* answer) {
    auto* call = new UnaryCall(service, queue, ask, answer);
    (service.*ask)(&call->context_, &call->request_, &call->writer_, &queue, &queue, call);
  }

  void proceed(bool ok) override {
    if (finished_ || !ok) {  // answered, or the server shut down before a call came
      delete this;
      return;
    }
    ask(service_, queue_, ask_, answer_);
    (*answer_)(request_, response_, [this](const grpc::Status& status) {
      finished_ = true;
      writer_.Finish(response_, status, this);
    });
  }

 private:
  UnaryCall(AsyncService& service, grpc::ServerCompletionQueue& queue, Ask ask, const Answer* answer)
      : service_(service), queue_(queue), ask_(ask), answer_(answer), writer_(&context_) {}

  AsyncService& service_;
  grpc::ServerCompletionQueue& queue_;
  Ask ask_;
  const Answer* answer_;
  grpc::ServerContext context_;
  Request request_;
  Response response_;
  grpc::ServerAsyncResponseWriter<Response> writer_;
  bool finished_ = false;
};

using LiveCall = UnaryCall<inference::ServerLiveRequest, inference::ServerLiveResponse>;
using ReadyCall = UnaryCall<inference::ServerReadyRequest, inference::ServerReadyResponse>;
using ModelReadyCall = UnaryCall<inference::ModelReadyRequest, inference::ModelReadyResponse>;
using MetadataCall = UnaryCall<inference::ServerMetadataRequest, inference::ServerMetadataResponse>;
using ModelMetadataCall = UnaryCall<inference::ModelMetadataRequest, inference::ModelMetadataResponse>;
using InferCall = UnaryCall<inference::ModelInferRequest, inference::ModelInferResponse>;

// The six methods' answers. Each may run on any queue's thread, several at once.
class Answers {
 public:
  Answers(ModelTable& table, ServerMetrics& metrics, const std::atomic<bool>& ready, std::atomic<int64_t>& in_flight)
      : table_(table), metrics_(metrics), ready_(ready), in_flight_(in_flight) {}
  Answers(const Answers&) = delete;  // its answers hold `this`
  Answers& operator=(const Answers&) = delete;

  // Asks for the first call of each method on `queue`.
  void ask(AsyncService& service, grpc::ServerCompletionQueue& queue) const {
    LiveCall::ask(service, queue, &AsyncService::RequestServerLive, &server_live_);
    ReadyCall::ask(service, queue, &AsyncService::RequestServerReady, &server_ready_);
    ModelReadyCall::ask(service, queue, &AsyncService::RequestModelReady, &model_ready_);
    MetadataCall::ask(service, queue, &AsyncService::RequestServerMetadata, &server_metadata_);
    ModelMetadataCall::ask(service, queue, &AsyncService::RequestModelMetadata, &model_metadata_);
    InferCall::ask(service, queue, &AsyncService::RequestModelInfer, &model_infer_);
  }

 private:
  // An answer computed on the spot: an HttpError becomes its status, anything else INTERNAL.
  template <class MethodCall, class Body>
  static typename MethodCall::Answer at_once(Body body) {
    return [body](const auto& request, auto& response, const auto& finish) {
      try {
        body(request, response);
        finish(grpc::Status::OK);
      } catch (const HttpError& e) {
        finish(status_of(e));
      } catch (const std::exception& e) {
        finish({grpc::StatusCode::INTERNAL, e.what()});
      }
    };
  }

  void infer(const inference::ModelInferRequest& request, inference::ModelInferResponse& response,
             const std::function<void(const grpc::Status&)>& finish) {
    const auto start = Clock::now();
    std::string model = "unknown";
    int64_t version = 0;
    try {
      if (!ready_) throw HttpError(503, "the server is shutting down");
      const std::shared_ptr<ServedVersion> served =
          table_.find(request.model_name(), requested_version(request.model_version()));
      model = served->name;
      version = served->version;
      std::vector<Tensor> inputs = read_inputs(request, *served);
      std::vector<size_t> wanted;
      for (const auto& output : request.outputs()) {
        size_t k = 0;
        while (k < served->outputs.size() && served->outputs[k].name != output.name()) ++k;
        if (k == served->outputs.size()) bad("unknown output \"" + output.name() + "\" requested");
        wanted.push_back(k);
      }
      if (wanted.empty())
        for (size_t k = 0; k < served->outputs.size(); ++k) wanted.push_back(k);
      const bool raw = request.raw_input_contents_size() > 0;  // answer in the form asked in
      ++in_flight_;
      // Holds copies, never the version: its last reference must not drop on its batcher.
      auto done = [this, &request, &response, finish, raw, wanted, start, model, version, outputs = served->outputs](
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
          response.set_model_name(model);
          response.set_model_version(std::to_string(version));
          response.set_id(request.id());
          for (const size_t k : wanted) {
            auto* out = response.add_outputs();
            out->set_name(outputs[k].name);
            out->set_datatype("FP32");
            for (const int64_t d : values[k].shape().dims()) out->add_shape(d);
            const float* data = values[k].data<float>();
            if (raw)
              response.add_raw_output_contents(reinterpret_cast<const char*>(data),
                                               static_cast<size_t>(values[k].numel()) * sizeof(float));
            else
              out->mutable_contents()->mutable_fp32_contents()->Add(data, data + values[k].numel());
          }
        }
        metrics_.record_request(model, version, code, std::chrono::duration<double>(Clock::now() - start).count());
        --in_flight_;
        finish(status);
      };
      if (!served->batcher->submit(std::move(inputs), std::move(done), later_on_this_thread)) {
        --in_flight_;
        throw HttpError(503, "the queue is full; retry later");
      }
    } catch (const HttpError& e) {
      metrics_.record_request(model, version, e.status, std::chrono::duration<double>(Clock::now() - start).count());
      finish(status_of(e));
    } catch (const std::exception& e) {
      finish({grpc::StatusCode::INTERNAL, e.what()});
    }
  }

  ModelTable& table_;
  ServerMetrics& metrics_;
  const std::atomic<bool>& ready_;
  std::atomic<int64_t>& in_flight_;

  const LiveCall::Answer server_live_ = at_once<LiveCall>([](const auto&, auto& response) { response.set_live(true); });
  const ReadyCall::Answer server_ready_ =
      at_once<ReadyCall>([this](const auto&, auto& response) { response.set_ready(ready_); });
  const ModelReadyCall::Answer model_ready_ = at_once<ModelReadyCall>([this](const auto& request, auto& response) {
    table_.find(request.name(), requested_version(request.version()));
    response.set_ready(ready_);
  });
  const MetadataCall::Answer server_metadata_ = at_once<MetadataCall>([](const auto&, auto& response) {
    response.set_name("axon");
    response.set_version(axon::version());
  });
  const ModelMetadataCall::Answer model_metadata_ =
      at_once<ModelMetadataCall>([this](const auto& request, auto& response) {
        const std::shared_ptr<const ModelTable::Models> models = table_.snapshot();
        const std::shared_ptr<ServedVersion> served =
            ModelTable::find(*models, request.name(), requested_version(request.version()));
        response.set_name(served->name);
        for (const auto& [number, v] : ModelTable::versions(*models, served->name))
          response.add_versions(std::to_string(number));
        response.set_platform("axon");
        add_metadata(response.mutable_inputs(), served->inputs);
        add_metadata(response.mutable_outputs(), served->outputs);
      });
  const InferCall::Answer model_infer_ = [this](const auto& request, auto& response, auto finish) {
    infer(request, response, finish);
  };
};

}  // namespace

// The asynchronous API, one completion queue per thread: the thread that reads a call
// answers it, and runs a quick model's batch too (Batcher, idle_work.h), so a call
// costs no thread switch. (The callback API hands calls between its own two threads,
// whatever the machine: 1.2 switches per call, 22,000 calls/s on one core where this
// serves 26,000 with almost none.)
struct GrpcServer::Impl {
  Answers answers;
  int threads;
  int64_t max_message_bytes;
  AsyncService service;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues;
  std::unique_ptr<grpc::Server> server;
  std::vector<std::thread> workers;
};

GrpcServer::GrpcServer(ModelTable& table, ServerMetrics& metrics, const std::atomic<bool>& ready,
                       std::atomic<int64_t>& in_flight, int threads, int64_t max_message_bytes)
    : impl_(new Impl{Answers(table, metrics, ready, in_flight), threads, max_message_bytes, {}, {}, nullptr, {}}) {}

GrpcServer::~GrpcServer() { stop(); }

int GrpcServer::start(const std::string& host, int port) {
  Impl& impl = *impl_;
  grpc::ServerBuilder builder;
  int bound = 0;
  const std::string address =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound);
  builder.RegisterService(&impl.service);
  const int limit = static_cast<int>(std::min<int64_t>(impl.max_message_bytes, INT32_MAX));
  builder.SetMaxReceiveMessageSize(limit);
  builder.SetMaxSendMessageSize(INT32_MAX);
  for (int i = 0; i < impl.threads; ++i) impl.queues.push_back(builder.AddCompletionQueue());
  impl.server = builder.BuildAndStart();
  if (!impl.server || bound == 0) {
    impl.server.reset();
    for (auto& queue : impl.queues) {  // nothing was asked on them: they drain at once
      queue->Shutdown();
      void* tag = nullptr;
      bool ok = false;
      while (queue->Next(&tag, &ok)) {}
    }
    impl.queues.clear();
    fail("serve: cannot listen for gRPC on ", address);
  }
  for (auto& queue : impl.queues) {
    impl.answers.ask(impl.service, *queue);
    impl.workers.emplace_back([queue = queue.get()] {
      void* tag = nullptr;
      bool ok = false;
      for (;;) {  // Next(), with this thread's idle work run whenever nothing is ready (idle_work.h)
        run_overdue_idle_work();
        const auto got = queue->AsyncNext(&tag, &ok, gpr_time_0(GPR_CLOCK_MONOTONIC));
        if (got == grpc::CompletionQueue::TIMEOUT && run_idle_work()) continue;
        if (got == grpc::CompletionQueue::SHUTDOWN ||
            (got == grpc::CompletionQueue::TIMEOUT && !queue->Next(&tag, &ok)))
          break;
        static_cast<Call*>(tag)->proceed(ok);
      }
      run_idle_work();
    });
  }
  return bound;
}

void GrpcServer::stop() {
  Impl& impl = *impl_;
  if (!impl.server) return;
  impl.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(30));
  for (auto& queue : impl.queues) queue->Shutdown();
  for (std::thread& worker : impl.workers) worker.join();
  impl.server.reset();
}

}  // namespace axon::serve
