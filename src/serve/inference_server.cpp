#include "axon/inference_server.h"

#include <httplib.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "batcher.h"
#include "http_error.h"
#include "metrics.h"
#include "protocol.h"

namespace axon {

using serve::HttpError;
using json = nlohmann::json;

namespace {

struct ServedModel {
  std::shared_ptr<Model> model;
  std::vector<serve::TensorSpec> inputs, outputs;
  std::unique_ptr<serve::Batcher> batcher;
};

std::vector<int64_t> with_batch_axis(const Shape& shape) {
  std::vector<int64_t> dims = shape.dims();
  dims.insert(dims.begin(), -1);
  return dims;
}

json tensor_metadata(const std::vector<serve::TensorSpec>& specs) {
  json list = json::array();
  for (const serve::TensorSpec& spec : specs)
    list.push_back(json{{"name", spec.name}, {"datatype", "FP32"}, {"shape", with_batch_axis(spec.shape)}});
  return list;
}

// TensorFlow Serving's REST forms carry one unnamed tensor each way.
void require_one_tensor(const ServedModel& m) {
  if (m.inputs.size() != 1 || m.outputs.size() != 1)
    throw HttpError(
        400,
        "this model has " + std::to_string(m.inputs.size()) + " inputs and " + std::to_string(m.outputs.size()) +
            " outputs; TensorFlow Serving's predict API here serves models of one of each: use /v2/models/{m}/infer");
}

// Paths are percent-decoded and may hold any bytes: invalid UTF-8 becomes U+FFFD.
void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

// Counts an object's lifetime: the requests in flight.
struct Counted {
  explicit Counted(std::atomic<int64_t>& count) : count(count) { ++count; }
  ~Counted() { --count; }
  std::atomic<int64_t>& count;
};

bool valid_model_name(const std::string& name) {
  const auto allowed = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  };
  return !name.empty() && std::all_of(name.begin(), name.end(), allowed);
}

}  // namespace

struct InferenceServer::Impl {
  ServerOptions options;
  httplib::Server http;
  serve::ServerMetrics metrics;  // declared before models: their batchers report to it until they stop
  std::map<std::string, ServedModel> models;
  std::atomic<bool> ready{false}, started{false}, listener_done{false};
  std::atomic<int64_t> in_flight{0};
  int listen_socket = -1;
  std::thread listener;
  std::mutex shutdown_mutex;  // shutdown() may be called from several threads at once

  const std::string& name_of(const ServedModel& served) const {
    for (const auto& [name, m] : models)
      if (&m == &served) return name;
    throw HttpError(500, "model vanished");
  }

  const ServedModel& find(const std::string& name) const {
    const auto it = models.find(name);
    if (it == models.end()) throw HttpError(404, "unknown model '" + name + "'");
    return it->second;
  }

  // Runs an inference route: readiness, model lookup, errors as JSON, metrics.
  void infer(const httplib::Request& req, httplib::Response& res, const std::string& name,
             const std::function<std::string(const ServedModel&, const std::string&)>& handle) {
    const auto start = std::chrono::steady_clock::now();
    const Counted counted(in_flight);  // shutdown() waits for this request, whatever happens below
    std::string label = "unknown";
    try {
      if (!ready) throw HttpError(503, "the server is shutting down");
      const ServedModel& served = find(name);
      label = name;
      res.set_content(handle(served, req.body), "application/json");
      res.status = 200;
    } catch (const HttpError& e) {
      send_json(res, e.status, {{"error", e.what()}});
    } catch (const std::exception& e) {
      send_json(res, 500, {{"error", e.what()}});
    }
    metrics.record_request(label, res.status,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }

  std::vector<Tensor> run(const ServedModel& served, std::vector<Tensor> inputs) {
    std::optional<std::future<std::vector<Tensor>>> future = served.batcher->submit(std::move(inputs));
    if (!future) throw HttpError(503, "the queue is full; retry later");
    return future->get();
  }

  void routes() {
    http.Get("/v2/health/live", [](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200, {{"live", true}});
    });
    http.Get("/v2/health/ready", [this](const httplib::Request&, httplib::Response& res) {
      send_json(res, ready ? 200 : 503, {{"ready", bool(ready)}});
    });
    http.Get("/v2", [](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200, {{"name", "axon"}, {"version", "0.1.0"}, {"extensions", json::array()}});
    });
    http.Get(R"(/v2/models/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      try {
        const ServedModel& m = find(req.matches[1]);
        send_json(res, 200,
                  {{"name", req.matches[1]},
                   {"versions", {"1"}},
                   {"platform", "axon"},
                   {"inputs", tensor_metadata(m.inputs)},
                   {"outputs", tensor_metadata(m.outputs)}});
      } catch (const HttpError& e) {
        send_json(res, e.status, {{"error", e.what()}});
      }
    });
    http.Get(R"(/v2/models/([^/]+)/ready)", [this](const httplib::Request& req, httplib::Response& res) {
      if (!models.contains(req.matches[1]))
        return send_json(res, 404, {{"error", "unknown model '" + std::string(req.matches[1]) + "'"}});
      send_json(res, ready ? 200 : 503, {{"name", req.matches[1]}, {"ready", bool(ready)}});
    });
    http.Post(R"(/v2/models/([^/]+)/infer)", [this](const httplib::Request& req, httplib::Response& res) {
      infer(req, res, req.matches[1], [this](const ServedModel& m, const std::string& body) {
        serve::InferRequest request = serve::parse_v2_infer(body, m.inputs, m.outputs);
        return serve::v2_infer_response(name_of(m), request.id, m.outputs, run(m, std::move(request.inputs)),
                                        request.outputs);
      });
    });
    http.Get(R"(/v1/models/([^/:]+))", [this](const httplib::Request& req, httplib::Response& res) {
      if (!models.contains(req.matches[1]))
        return send_json(res, 404, {{"error", "unknown model '" + std::string(req.matches[1]) + "'"}});
      send_json(res, 200,
                {{"model_version_status",
                  {{{"version", "1"},
                    {"state", ready ? "AVAILABLE" : "END"},
                    {"status", {{"error_code", "OK"}, {"error_message", ""}}}}}}});
    });
    http.Post(R"(/v1/models/([^/:]+):predict)", [this](const httplib::Request& req, httplib::Response& res) {
      infer(req, res, req.matches[1], [this](const ServedModel& m, const std::string& body) {
        require_one_tensor(m);
        serve::TfPredictRequest request = serve::parse_tf_predict(body, m.inputs[0].shape);
        return serve::tf_predict_response(run(m, {std::move(request.input)})[0], request.columnar);
      });
    });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.prometheus(), "text/plain; version=0.0.4");
    });
    // Known paths with the wrong method: 405 and the method that is allowed.
    const std::string get_paths = R"(/v2|/v2/health/(live|ready)|/v2/models/[^/]+(/ready)?|/v1/models/[^/:]+|/metrics)";
    const std::string post_paths = R"(/v2/models/[^/]+/infer|/v1/models/[^/:]+:predict)";
    const auto wrong_method = [](const char* allowed) {
      return [allowed](const httplib::Request& req, httplib::Response& res) {
        res.set_header("Allow", allowed);
        send_json(res, 405, {{"error", "method " + req.method + " not allowed; use " + allowed}});
      };
    };
    http.Post(get_paths, wrong_method("GET"));
    http.Get(post_paths, wrong_method("POST"));
    for (const auto& [paths, allowed] : {std::pair{get_paths, "GET"}, std::pair{post_paths, "POST"}}) {
      http.Put(paths, wrong_method(allowed));
      http.Delete(paths, wrong_method(allowed));
      http.Patch(paths, wrong_method(allowed));
    }
    // Everything else that failed without a body: 404, 413 and friends, as JSON.
    http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return;
      const char* reason = res.status == 404   ? "not found"
                           : res.status == 413 ? "request body too large"
                                               : "bad request";
      send_json(res, res.status, {{"error", reason}});
    });
  }
};

InferenceServer::InferenceServer(ServerOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.max_batch < 1 || options.max_queue < 1 || options.max_body_bytes < 1 || options.threads < 1 ||
      options.batch_timeout_us < 0)
    fail("InferenceServer: max_batch, max_queue, max_body_bytes and threads must be >= 1, batch_timeout_us >= 0");
  impl_->options = options;
  impl_->routes();
}

InferenceServer::~InferenceServer() { shutdown(); }

void InferenceServer::add_model(const std::string& name, std::shared_ptr<Model> model) {
  if (!model) fail("add_model: model '", name, "' is null");
  if (!model->built() || model->input_shapes().empty())
    fail("add_model: model '", name, "' is not built; give its input shape");
  add_model(name, model, model->input_shapes());
}

void InferenceServer::add_model(const std::string& name, std::shared_ptr<Model> model, const Shape& input_shape) {
  add_model(name, std::move(model), std::vector<Shape>{input_shape});
}

void InferenceServer::add_model(const std::string& name, std::shared_ptr<Model> model,
                                const std::vector<Shape>& input_shapes) {
  if (impl_->started) fail("add_model: add models before start()");
  // Names go into URL paths and Prometheus labels verbatim.
  if (!valid_model_name(name))
    fail("add_model: invalid model name '", name, "' (use letters, digits, '_', '-' and '.')");
  if (impl_->models.contains(name)) fail("add_model: a model named '", name, "' is already served");
  if (!model) fail("add_model: model '", name, "' is null");
  const std::vector<std::string> input_names = model->input_names(), output_names = model->output_names();
  if (input_shapes.size() != input_names.size())
    fail("add_model: model '", name, "' takes ", input_names.size(), " inputs, got ", input_shapes.size(), " shapes");
  if (!model->built() && input_shapes.size() == 1) model->build(input_shapes[0]);
  // One example through the model gives the output shapes (and checks the input shapes).
  std::vector<Tensor> probe_inputs;
  for (const Shape& shape : input_shapes) {
    std::vector<int64_t> dims = shape.dims();
    dims.insert(dims.begin(), 1);
    probe_inputs.push_back(Tensor::zeros(Shape(dims)));
  }
  const std::vector<Tensor> probe = model->predict(probe_inputs);
  ServedModel served;
  served.model = model;
  for (size_t i = 0; i < input_shapes.size(); ++i) served.inputs.push_back({input_names[i], input_shapes[i]});
  for (size_t k = 0; k < probe.size(); ++k)
    served.outputs.push_back({output_names[k], Shape(std::vector<int64_t>(probe[k].shape().dims().begin() + 1,
                                                                          probe[k].shape().dims().end()))});
  Impl* impl = impl_.get();
  served.batcher = std::make_unique<serve::Batcher>(
      model, impl->options.max_batch, std::chrono::microseconds(impl->options.batch_timeout_us),
      impl->options.max_queue, [impl, name](int64_t rows) { impl->metrics.record_batch(name, rows); });
  impl_->models.emplace(name, std::move(served));
}

int InferenceServer::start() {
  Impl& impl = *impl_;
  if (impl.started.exchange(true)) fail("InferenceServer: already started");
  impl.http.set_payload_max_length(static_cast<size_t>(impl.options.max_body_bytes));
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which would let a second
  // server share (and silently split) a port that is already in use.
  impl.http.set_socket_options([&impl](int socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    // Accepted connections inherit TCP_NODELAY: without it Nagle's algorithm and delayed
    // ACKs hold every response ~40 ms (measured: 44 ms p50 at one connection).
    setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    impl.listen_socket = socket;
  });
  impl.http.set_keep_alive_max_count(1 << 30);
  const int threads = impl.options.threads;
  impl.http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  const int port = impl.options.port == 0
                       ? impl.http.bind_to_any_port(impl.options.host)
                       : (impl.http.bind_to_port(impl.options.host, impl.options.port) ? impl.options.port : -1);
  if (port < 0)
    fail("serve: cannot listen on ", impl.options.host, ":", impl.options.port,
         " (in use, or not an address of this machine)");
  // Debian's httplib listens with a backlog of 5, which drops connection bursts; Linux
  // lets a second listen() raise it.
  ::listen(impl.listen_socket, SOMAXCONN);
  impl.ready = true;
  impl.listener = std::thread([&impl] {
    impl.http.listen_after_bind();
    impl.listener_done = true;
  });
  // httplib's stop() does nothing until the listener runs: wait for it, so that a
  // shutdown() straight after start() cannot leave the listener running for ever.
  while (!impl.http.is_running() && !impl.listener_done) std::this_thread::sleep_for(std::chrono::microseconds(100));
  return port;
}

void InferenceServer::shutdown() {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.shutdown_mutex);
  if (!impl.started) return;
  impl.ready = false;  // new requests get 503 from here on
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (impl.in_flight > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl.http.stop();
  if (impl.listener.joinable()) impl.listener.join();
}

bool InferenceServer::ready() const { return impl_->ready; }

}  // namespace axon
