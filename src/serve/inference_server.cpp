#include "axon/inference_server.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "access_log.h"
#include "axon/threads.h"
#include "axon/version.h"
#include "grpc_server.h"
#include "http_error.h"
#include "http_server.h"
#include "idle_work.h"
#include "metrics.h"
#include "model_repository.h"
#include "model_table.h"
#include "protocol.h"

namespace axon {

using serve::HttpError;
using serve::HttpRequest;
using serve::HttpResponse;
using serve::Respond;
using serve::ServedVersion;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

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
void require_one_tensor(const ServedVersion& m) {
  if (m.inputs.size() != 1 || m.outputs.size() != 1)
    throw HttpError(
        400,
        "this model has " + std::to_string(m.inputs.size()) + " inputs and " + std::to_string(m.outputs.size()) +
            " outputs; TensorFlow Serving's predict API here serves models of one of each: use /v2/models/{m}/infer");
}

// Request targets may hold any bytes: invalid UTF-8 becomes U+FFFD.
HttpResponse json_response(int status, const json& body) {
  return {status, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

HttpResponse error_response(int status, const std::string& message) {
  return json_response(status, {{"error", message}});
}

std::vector<std::string> path_segments(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::vector<std::string> segments;
  for (size_t start = 0; start < target.size();) {
    const size_t slash = std::min(target.find('/', start), target.size());
    if (slash > start) segments.emplace_back(target.substr(start, slash - start));
    start = slash + 1;
  }
  return segments;
}

// What a request target names: one endpoint, the method it takes, and its model and version.
struct Route {
  enum Kind {
    server_metadata,
    live,
    ready,
    metrics,
    model_metadata,
    model_ready,
    infer,
    tf_status,
    tf_predict,
    repository_index,
    model_load,
    model_unload
  };
  Kind kind;
  const char* method;
  std::string model;
  std::optional<int64_t> version;
};

std::optional<Route> match(const std::vector<std::string>& s) {
  const size_t n = s.size();
  if (n == 1 && s[0] == "v2") return Route{Route::server_metadata, "GET"};
  if (n == 1 && s[0] == "metrics") return Route{Route::metrics, "GET"};
  if (n == 3 && s[0] == "v2" && s[1] == "health") {
    if (s[2] == "live") return Route{Route::live, "GET"};
    if (s[2] == "ready") return Route{Route::ready, "GET"};
  }
  if (n >= 3 && s[0] == "v2" && s[1] == "models") {
    // /v2/models/{m}[/versions/{v}][/ready|/infer]
    std::optional<int64_t> version;
    size_t at = 3;
    if (n >= 5 && s[3] == "versions") {
      version = serve::requested_version(s[4]);
      at = 5;
    }
    if (n == at) return Route{Route::model_metadata, "GET", s[2], version};
    if (n == at + 1 && s[at] == "ready") return Route{Route::model_ready, "GET", s[2], version};
    if (n == at + 1 && s[at] == "infer") return Route{Route::infer, "POST", s[2], version};
  }
  if (n == 3 && s[0] == "v2" && s[1] == "repository" && s[2] == "index") return Route{Route::repository_index, "POST"};
  if (n == 5 && s[0] == "v2" && s[1] == "repository" && s[2] == "models") {
    if (s[4] == "load") return Route{Route::model_load, "POST", s[3]};
    if (s[4] == "unload") return Route{Route::model_unload, "POST", s[3]};
  }
  if (n >= 3 && s[0] == "v1" && s[1] == "models") {
    // /v1/models/{m}[/versions/{v}][:predict]
    const bool versioned = n == 5 && s[3] == "versions";
    if (n != 3 && !versioned) return std::nullopt;
    std::string last = s[n - 1];
    const bool predict = last.ends_with(":predict");
    if (predict) last.resize(last.size() - 8);
    const std::string model = versioned ? s[2] : last;
    const std::optional<int64_t> version = versioned ? serve::requested_version(last) : std::nullopt;
    return Route{predict ? Route::tf_predict : Route::tf_status, predict ? "POST" : "GET", model, version};
  }
  return std::nullopt;
}

}  // namespace

struct InferenceServer::Impl {
  ServerOptions options;
  serve::ServerMetrics metrics;
  std::unique_ptr<serve::AccessLog> access_log;
  // Declared before the models: it stops first, and outlives their batchers, whose last
  // answers post to its (stopped) I/O context.
  std::unique_ptr<serve::HttpServer> http;
  std::unique_ptr<serve::GrpcServer> grpc;
  int grpc_port = -1;
  serve::ModelTable table;
  std::unique_ptr<serve::RepositoryWatcher> repository;
  RepositoryOptions repository_options;
  std::atomic<bool> ready{false}, started{false};
  std::atomic<int64_t> in_flight{0};
  std::mutex shutdown_mutex;  // shutdown() may be called from several threads at once

  serve::BatchingOptions batching() const { return {options.max_batch, options.batch_timeout_us, options.max_queue}; }

  void handle(HttpRequest&& request, const Respond& respond) {
    const auto start = Clock::now();
    std::string model = "unknown";
    int64_t version = 0;
    try {
      const std::optional<Route> route = match(path_segments(request.target));
      if (!route) throw HttpError(404, "not found");
      if (request.method != route->method) {
        HttpResponse wrong =
            error_response(405, "method " + request.method + " not allowed; use " + std::string(route->method));
        wrong.headers.emplace_back("Allow", route->method);
        return respond([wrong] { return wrong; });
      }
      if (route->kind == Route::infer || route->kind == Route::tf_predict) {
        if (!ready) throw HttpError(503, "the server is shutting down");
        const std::shared_ptr<ServedVersion> served = table.find(route->model, route->version);
        model = served->name;
        version = served->version;
        return infer(*served, std::move(request.body), route->kind == Route::tf_predict, start, respond);
      }
      const HttpResponse response = answer(*route);
      return respond([response] { return response; });
    } catch (const HttpError& e) {
      metrics.record_request(model, version, e.status, std::chrono::duration<double>(Clock::now() - start).count());
      const HttpResponse response = error_response(e.status, e.what());
      respond([response] { return response; });
    } catch (const std::exception& e) {
      const HttpResponse response = error_response(500, e.what());
      respond([response] { return response; });
    }
  }

  // Parses here, runs on the version's batcher, writes the answer on the I/O thread.
  void infer(const ServedVersion& served, std::string body, bool tf, Clock::time_point start, const Respond& respond) {
    std::vector<Tensor> inputs;
    std::optional<std::string> id;
    std::vector<size_t> wanted;
    bool columnar = false;  // TensorFlow Serving's form to answer in
    if (tf) {
      require_one_tensor(served);
      serve::TfPredictRequest request = serve::parse_tf_predict(body, served.inputs[0].shape);
      inputs.push_back(std::move(request.input));
      columnar = request.columnar;
    } else {
      serve::InferRequest request = serve::parse_v2_infer(body, served.inputs, served.outputs);
      inputs = std::move(request.inputs);
      id = std::move(request.id);
      wanted = std::move(request.outputs);
    }
    ++in_flight;
    // The answer holds copies of what it needs, never the version itself: the last
    // reference to a version must not drop on its own batcher's thread.
    auto done = [this, respond, name = served.name, version = served.version, outputs = served.outputs, tf, columnar,
                 id, wanted, start](std::vector<Tensor> values, std::exception_ptr error) {
      respond([this, name, version, outputs, tf, columnar, id, wanted, start, values = std::move(values), error] {
        HttpResponse response;
        try {
          if (error) std::rethrow_exception(error);
          response.body = tf ? serve::tf_predict_response(values[0], columnar)
                             : serve::v2_infer_response(name, version, id, outputs, values, wanted);
        } catch (const std::exception& e) {
          response = error_response(500, e.what());
        }
        metrics.record_request(name, version, response.status,
                               std::chrono::duration<double>(Clock::now() - start).count());
        --in_flight;
        return response;
      });
    };
    if (!served.batcher->submit(std::move(inputs), std::move(done), serve::later_on_this_thread)) {
      --in_flight;
      throw HttpError(503, "the queue is full; retry later");
    }
  }

  json model_metadata(const std::string& name, std::optional<int64_t> version) const {
    const std::shared_ptr<const serve::ModelTable::Models> models = table.snapshot();
    const std::shared_ptr<ServedVersion> served = serve::ModelTable::find(*models, name, version);
    json versions = json::array();
    for (const auto& [number, v] : serve::ModelTable::versions(*models, name))
      versions.push_back(std::to_string(number));
    return {{"name", name},
            {"versions", versions},
            {"platform", "axon"},
            {"inputs", tensor_metadata(served->inputs)},
            {"outputs", tensor_metadata(served->outputs)}};
  }

  HttpResponse answer(const Route& route) {
    switch (route.kind) {
      case Route::live:
        return json_response(200, {{"live", true}});
      case Route::ready:
        return json_response(ready ? 200 : 503, {{"ready", bool(ready)}});
      case Route::server_metadata: {
        json extensions = json::array();
        if (repository) extensions.push_back("model_repository");
        return json_response(200, {{"name", "axon"}, {"version", axon::version()}, {"extensions", extensions}});
      }
      case Route::metrics: {
        std::vector<serve::ServerMetrics::QueueDepth> queues;
        for (const auto& [name, versions] : *table.snapshot())
          for (const auto& [number, served] : versions)
            queues.push_back({name, number, served->batcher->queued_rows()});
        return {200, metrics.prometheus(queues), "text/plain; version=0.0.4"};
      }
      case Route::model_metadata:
        return json_response(200, model_metadata(route.model, route.version));
      case Route::model_ready:
        table.find(route.model, route.version);  // 404 unless loaded
        return json_response(ready ? 200 : 503, {{"name", route.model}, {"ready", bool(ready)}});
      case Route::tf_status: {
        const std::shared_ptr<const serve::ModelTable::Models> models = table.snapshot();
        serve::ModelTable::find(*models, route.model, route.version);  // 404 unless loaded
        json statuses = json::array();
        for (const auto& [number, served] : serve::ModelTable::versions(*models, route.model))
          if (!route.version || number == *route.version)
            statuses.push_back({{"version", std::to_string(number)},
                                {"state", ready ? "AVAILABLE" : "END"},
                                {"status", {{"error_code", "OK"}, {"error_message", ""}}}});
        return json_response(200, {{"model_version_status", statuses}});
      }
      case Route::repository_index: {
        json index = json::array();
        if (repository)
          for (const serve::RepositoryState& s : repository->index())
            index.push_back(
                {{"name", s.name}, {"version", std::to_string(s.version)}, {"state", s.state}, {"reason", s.reason}});
        return json_response(200, index);
      }
      case Route::model_load:
      case Route::model_unload:
        if (!repository) throw HttpError(400, "no model repository is served (axon serve --model-repository DIR)");
        if (!repository_options.allow_model_control)
          throw HttpError(403, "model control is off; start the server with --allow-model-control");
        if (route.kind == Route::model_load)
          repository->load(route.model);
        else
          repository->unload(route.model);
        table.reap();
        return json_response(200, json::object());
      case Route::infer:
      case Route::tf_predict:
        break;
    }
    throw HttpError(500, "unrouted request");
  }
};

InferenceServer::InferenceServer(ServerOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.max_batch < 1 || options.max_queue < 1 || options.max_body_bytes < 1 || options.threads < 0 ||
      options.batch_timeout_us < 0 || options.max_connections < 1 || options.max_header_bytes < 256 ||
      options.max_header_bytes > (int64_t{1} << 30) || options.request_timeout_ms < 1 || options.idle_timeout_ms < 1 ||
      options.grpc_port < -1 || options.grpc_port > 65535)
    fail(
        "InferenceServer: max_batch, max_queue, max_body_bytes, max_connections, request_timeout_ms and "
        "idle_timeout_ms must be >= 1, max_header_bytes in [256, 1 GiB], threads and batch_timeout_us >= 0");
  if (options.threads == 0) options.threads = num_threads();
  Impl& impl = *impl_;
  impl.options = options;
  if (!options.access_log.empty()) impl.access_log = std::make_unique<serve::AccessLog>(options.access_log);
  serve::HttpLimits limits;
  limits.max_body_bytes = options.max_body_bytes;
  limits.max_header_bytes = options.max_header_bytes;
  limits.request_timeout = std::chrono::milliseconds(options.request_timeout_ms);
  limits.idle_timeout = std::chrono::milliseconds(options.idle_timeout_ms);
  limits.max_connections = options.max_connections;
  impl.http = std::make_unique<serve::HttpServer>(
      limits, options.threads,
      [&impl](HttpRequest&& request, Respond respond) { impl.handle(std::move(request), respond); },
      impl.access_log.get());
}

InferenceServer::~InferenceServer() { shutdown(); }

void InferenceServer::add_model(const std::string& name, std::shared_ptr<Model> model) {
  if (!model) fail("add_model: model '", name, "' is null");
  add_model(name, model, serve::built_input_shapes(name, *model));
}

void InferenceServer::add_model(const std::string& name, std::shared_ptr<Model> model, const Shape& input_shape) {
  add_model(name, std::move(model), std::vector<Shape>{input_shape});
}

void InferenceServer::add_model(const std::string& name, std::shared_ptr<Model> model,
                                const std::vector<Shape>& input_shapes) {
  Impl& impl = *impl_;
  if (impl.started) fail("add_model: add models before start()");
  if (!serve::valid_model_name(name))
    fail("add_model: invalid model name '", name, "' (use letters, digits, '_', '-' and '.')");
  if (impl.table.snapshot()->contains(name)) fail("add_model: a model named '", name, "' is already served");
  try {
    impl.table.set(name,
                   {{1, serve::serve_version(name, 1, std::move(model), input_shapes, impl.batching(), impl.metrics)}});
  } catch (const Error& e) {
    fail("add_model: ", e.what());
  }
}

void InferenceServer::add_repository(const RepositoryOptions& repository) {
  Impl& impl = *impl_;
  if (impl.started) fail("add_repository: add the repository before start()");
  if (impl.repository) fail("add_repository: one repository per server");
  impl.repository_options = repository;
  impl.repository = std::make_unique<serve::RepositoryWatcher>(
      repository.path, serve::VersionPolicy::parse(repository.version_policy), impl.table, impl.batching(),
      impl.metrics, [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
}

int InferenceServer::start() {
  Impl& impl = *impl_;
  if (impl.started.exchange(true)) fail("InferenceServer: already started");
  const int port = impl.http->listen(impl.options.host, impl.options.port);
  if (impl.options.grpc_port >= 0) {
    impl.grpc = std::make_unique<serve::GrpcServer>(impl.table, impl.metrics, impl.ready, impl.in_flight,
                                                    impl.options.threads, impl.options.max_body_bytes);
    impl.grpc_port = impl.grpc->start(impl.options.host, impl.options.grpc_port);
  }
  impl.ready = true;
  impl.http->start();
  if (impl.repository && impl.repository_options.poll_ms > 0)
    impl.repository->poll_every(std::chrono::milliseconds(impl.repository_options.poll_ms));
  return port;
}

void InferenceServer::shutdown() {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.shutdown_mutex);
  if (!impl.started || !impl.ready) return;
  impl.ready = false;  // new requests get 503 from here on
  if (impl.repository) impl.repository->stop();
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (impl.in_flight > 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl.http->stop();
  if (impl.grpc) impl.grpc->stop();
}

int InferenceServer::grpc_port() const { return impl_->grpc_port; }

bool InferenceServer::ready() const { return impl_->ready; }

}  // namespace axon
