// The inference server over real HTTP on loopback: every endpoint and error code,
// hostile bodies, concurrency with dynamic batching, full queues and graceful shutdown.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "axon/axon.h"
#include "axon/inference_server.h"
#include "halving_server.h"

namespace axon {
namespace {

using json = nlohmann::json;

using test_support::halving_model;
using test_support::Served;

std::string infer_body(const std::vector<std::vector<float>>& rows, const std::string& id = "") {
  json body = {{"inputs", {{{"name", "input"}, {"shape", {rows.size(), 2}}, {"datatype", "FP32"}, {"data", rows}}}}};
  if (!id.empty()) body["id"] = id;
  return body.dump();
}

httplib::Result post(httplib::Client& c, const std::string& path, const std::string& body) {
  return c.Post(path, body, "application/json");
}

TEST(Server, HealthMetadataAndReadiness) {
  Served s;
  auto c = s.client();
  EXPECT_EQ(json::parse(c.Get("/v2/health/live")->body)["live"], true);
  EXPECT_EQ(json::parse(c.Get("/v2/health/ready")->body)["ready"], true);
  EXPECT_EQ(json::parse(c.Get("/v2")->body)["name"], "axon");
  const json meta = json::parse(c.Get("/v2/models/half")->body);
  EXPECT_EQ(meta["inputs"][0]["shape"], json({-1, 2}));
  EXPECT_EQ(meta["outputs"][0]["shape"], json({-1, 3}));
  EXPECT_EQ(c.Get("/v2/models/half/ready")->status, 200);
  EXPECT_EQ(c.Get("/v2/models/other/ready")->status, 404);
  EXPECT_EQ(c.Get("/v2/models/other")->status, 404);
  EXPECT_EQ(json::parse(c.Get("/v1/models/half")->body)["model_version_status"][0]["state"], "AVAILABLE");
  EXPECT_EQ(c.Get("/v1/models/other")->status, 404);
  EXPECT_EQ(c.Get("/v2/nothing")->status, 404);
}

TEST(Server, WrongMethodsGet405WithTheAllowedOne) {
  Served s;
  auto c = s.client();
  for (const char* path : {"/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/half", "/v2/models/half/ready",
                           "/v1/models/half", "/metrics"}) {
    const auto res = post(c, path, "{}");
    EXPECT_EQ(res->status, 405) << path;
    EXPECT_EQ(res->get_header_value("Allow"), "GET") << path;
    EXPECT_TRUE(json::parse(res->body).contains("error")) << path;
  }
  for (const char* path : {"/v2/models/half/infer", "/v1/models/half:predict"}) {
    EXPECT_EQ(c.Get(path)->status, 405) << path;
    EXPECT_EQ(c.Delete(path)->status, 405) << path;
    EXPECT_EQ(c.Put(path, "{}", "application/json")->get_header_value("Allow"), "POST") << path;
  }
}

TEST(Server, MetricsArePrometheusText) {
  Served s;
  auto c = s.client();
  ASSERT_EQ(post(c, "/v2/models/half/infer", infer_body({{1, 2}}))->status, 200);
  ASSERT_EQ(post(c, "/v2/models/half/infer", "{")->status, 400);
  ASSERT_EQ(post(c, "/v2/models/nope/infer", "{}")->status, 404);
  const auto res = c.Get("/metrics");
  ASSERT_EQ(res->status, 200);
  EXPECT_NE(res->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  for (const char* line : {"axon_requests_total{model=\"half\",version=\"1\",code=\"200\"} 1",
                           "axon_requests_total{model=\"half\",version=\"1\",code=\"400\"} 1",
                           "axon_request_errors_total{model=\"half\",version=\"1\",code=\"400\"} 1",
                           "axon_request_errors_total{model=\"unknown\",version=\"\",code=\"404\"} 1",
                           "# TYPE axon_request_duration_seconds histogram",
                           "axon_request_duration_seconds_bucket{model=\"half\",version=\"1\",le=\"+Inf\"} 2",
                           "axon_request_duration_seconds_count{model=\"half\",version=\"1\"} 2",
                           "axon_request_duration_seconds_sum{model=\"half\",version=\"1\"} ",
                           "axon_batch_size_bucket{model=\"half\",version=\"1\",le=\"1\"} 1",
                           "axon_batch_size_count{model=\"half\",version=\"1\"} 1", "# TYPE axon_queue_rows gauge",
                           "axon_queue_rows{model=\"half\",version=\"1\"} 0"})
    EXPECT_NE(res->body.find(line), std::string::npos) << line << "\n" << res->body;
  EXPECT_EQ(res->body.find("axon_request_errors_total{model=\"half\",version=\"1\",code=\"200\"}"), std::string::npos);
}

TEST(Server, InferBothProtocolsWithKnownAnswers) {
  Served s;
  auto c = s.client();
  auto res = post(c, "/v2/models/half/infer", infer_body({{1, 2}, {3, 5}}, "req-7"));
  ASSERT_EQ(res->status, 200) << res->body;
  const json answer = json::parse(res->body);
  EXPECT_EQ(answer["id"], "req-7");
  EXPECT_EQ(answer["model_name"], "half");
  EXPECT_EQ(answer["outputs"][0]["shape"], json({2, 3}));
  EXPECT_EQ(answer["outputs"][0]["data"], json({1.5, 1.5, 1.5, 4.0, 4.0, 4.0}));
  // Flat data and an explicit output selection.
  res = post(
      c, "/v2/models/half/infer",
      R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[2,2]}],"outputs":[{"name":"output"}]})");
  EXPECT_EQ(json::parse(res->body)["outputs"][0]["data"], json({2.0, 2.0, 2.0}));
  // Integer datatypes are converted to FP32.
  res = post(c, "/v2/models/half/infer",
             R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"UINT8","data":[[6,2]]}]})");
  EXPECT_EQ(json::parse(res->body)["outputs"][0]["data"], json({4.0, 4.0, 4.0}));
  res = post(c, "/v1/models/half:predict", R"({"instances": [[1, 1], [0, 4]]})");
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["predictions"], json({{1.0, 1.0, 1.0}, {2.0, 2.0, 2.0}}));
  // TF Serving's columnar form, and flat instances.
  res = post(c, "/v1/models/half:predict", R"({"signature_name": "serving_default", "inputs": [[2, 4]]})");
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body), json({{"outputs", {{3.0, 3.0, 3.0}}}}));
}

// A text model: words -> ids (its own vocabulary) -> embedding -> average -> 2 scores.
std::shared_ptr<Functional> text_model() {
  auto text = std::make_shared<TextVectorization>(TextVectorizationOptions{.output_sequence_length = 4});
  text->adapt({"good film", "bad film", "good good plot"});
  SymbolicTensor words = Input(Shape{4}, "words");
  SymbolicTensor h = Embedding(text->vocabulary_size(), 3, {.mask_zero = true, .seed = 1})((*text)(words));
  return std::make_shared<Functional>(std::vector{words},
                                      std::vector{Dense(2, "softmax", {.seed = 2})(GlobalAveragePooling1D()(h))});
}

TEST(Server, TextModelsTakeStringsAsBytesAndAnswerAsTheLibraryDoes) {
  InferenceServer server(Served::with_free_port({}));
  std::shared_ptr<Functional> model = text_model();
  server.add_model("review", model, Shape{4});
  server.add_model("half", halving_model(), Shape{2});
  const int port = server.start();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(10, 0);
  const std::vector<std::string> reviews = {"Good plot!", "bad, bad film and more words than fit"};
  json body = {{"inputs", {{{"name", "words"}, {"shape", {2}}, {"datatype", "BYTES"}, {"data", reviews}}}}};
  auto res = post(c, "/v2/models/review/infer", body.dump());
  ASSERT_EQ(res->status, 200) << res->body;
  const Tensor expected = model->predict(text_vectorization_of(*model)->vectorize(reviews));
  const std::vector<double> got = json::parse(res->body)["outputs"][0]["data"].get<std::vector<double>>();
  ASSERT_EQ(got.size(), 4u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected.to_vector()[i], 1e-6);
  // Token ids as INT64 give the same.
  json ids = {{"inputs", {{{"name", "words"}, {"shape", {2, 4}}, {"datatype", "INT64"},
                           {"data", text_vectorization_of(*model)->vectorize(reviews).to_vector()}}}}};
  res = post(c, "/v2/models/review/infer", ids.dump());
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["outputs"][0]["data"].get<std::vector<double>>(), got);
  // Text where numbers are wanted, strings under a numeric datatype, mixed data, bad shapes.
  res = post(c, "/v2/models/half/infer", R"({"inputs":[{"name":"x","shape":[1],"datatype":"BYTES","data":["a"]}]})");
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("does not begin with a TextVectorization"), std::string::npos) << res->body;
  for (const char* bad : {R"({"inputs":[{"name":"w","shape":[1],"datatype":"FP32","data":["good"]}]})",
                          R"({"inputs":[{"name":"w","shape":[2],"datatype":"BYTES","data":["good", 3]}]})",
                          R"({"inputs":[{"name":"w","shape":[2],"datatype":"BYTES","data":["good"]}]})",
                          R"({"inputs":[{"name":"w","shape":[1,4],"datatype":"BYTES","data":["good"]}]})"}) {
    res = post(c, "/v2/models/review/infer", bad);
    EXPECT_EQ(res->status, 400) << bad << " -> " << res->body;
  }
  server.shutdown();
}

TEST(Server, BadRequestsGetClearStatuses) {
  Served s({.max_body_bytes = 4096});
  auto c = s.client();
  const struct {
    std::string path, body;
    int status;
    std::string message;
  } cases[] = {
      {"/v2/models/half/infer", "{not json", 400, "malformed JSON"},
      {"/v2/models/half/infer", R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"BYTES","data":[1,2]}]})", 400,
       "BYTES \"data\" must hold strings only"},
      {"/v2/models/half/infer", R"({"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]})", 400,
       "input \"input\": shape [1, 3] does not match the model's [-1, 2]"},
      {"/v2/models/half/infer", R"({"inputs":[{"name":"input","shape":[2,2],"datatype":"FP32","data":[1,2,3]}]})", 400,
       "\"data\" holds 3 values; shape [2, 2] needs 4"},
      {"/v2/models/half/infer", R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[1,"x"]}]})", 400,
       "\"data\" holds strings; send them as datatype BYTES"},
      {"/v2/models/half/infer",
       R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[1,2]}],"outputs":[{"name":"probs"}]})",
       400, "unknown output"},
      {"/v2/models/half/infer", R"({"inputs":[]})", 400, "\"inputs\" must hold the model's 1 input (\"input\"), got 0"},
      {"/v1/models/half:predict", R"({"instances":[[1,2,3]]})", 400, "instance 0 holds 3 values; the model takes 2"},
      {"/v1/models/half:predict", R"({"instances":[[1,2]],"inputs":[[1,2]]})", 400, "either"},
      {"/v1/models/half:predict", R"({"inputs":{"input":[[1,2]]}})", 400, "named inputs"},
      {"/v1/models/half:predict", R"([1,2])", 400, "instances"},
      {"/v1/models/nope:predict", R"({"instances":[[1,2]]})", 404, "unknown model 'nope'"},
      {"/v2/models/nope/infer", infer_body({{1, 2}}), 404, "unknown model 'nope'"},
      {"/v3/anything", "{}", 404, "not found"},
  };
  for (const auto& t : cases) {
    const auto res = post(c, t.path, t.body);
    ASSERT_TRUE(res) << t.body;
    EXPECT_EQ(res->status, t.status) << t.body << " -> " << res->body;
    EXPECT_NE(json::parse(res->body)["error"].get<std::string>().find(t.message), std::string::npos) << res->body;
  }
  EXPECT_EQ(c.Get("/v2/models/half/infer")->status, 405);
  // 128 bytes under and over the body limit.
  const std::string base = infer_body({{1, 2}});
  auto padded = [&](size_t size) {
    return base.substr(0, base.size() - 1) + R"(,"pad":")" + std::string(size - base.size() - 9, 'x') + "\"}";
  };
  EXPECT_EQ(post(c, "/v2/models/half/infer", padded(4096 - 128))->status, 200);
  const auto over = post(c, "/v2/models/half/infer", padded(4096 + 128));
  EXPECT_EQ(over->status, 413);
  EXPECT_EQ(json::parse(over->body)["error"], "request body larger than 4096 bytes");
}

TEST(Server, HostileBodiesDoNotHurtIt) {
  Served s({.max_queue = 1 << 20});
  auto c = s.client();
  std::string deep_objects;
  for (int i = 0; i < 100000; ++i) deep_objects += R"({"a":)";
  deep_objects += "1" + std::string(100000, '}');
  const std::string deep_lists = std::string(100000, '[') + std::string(100000, ']');
  const std::pair<const char*, std::string> cases[] = {
      {"/v2/models/half/infer", deep_lists},
      {"/v2/models/half/infer", deep_objects},
      {"/v2/models/half/infer", R"({"inputs":[{"data":)" + deep_lists + "}]}"},
      {"/v1/models/half:predict", deep_lists},
      {"/v1/models/half:predict", deep_objects},
      {"/v1/models/half:predict", R"({"instances":)" + deep_lists + "}"},
  };
  for (const auto& [path, deep] : cases) {
    const auto res = post(c, path, deep);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 400) << path;
    EXPECT_NE(res->body.find("nested deeper than 64"), std::string::npos) << res->body;
  }
  // A million numbers that do not fit the claimed shape.
  std::string million = R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[)";
  for (int i = 0; i < 1000000; ++i) million += i ? ",1" : "1";
  million += "]}]}";
  auto res = post(c, "/v2/models/half/infer", million);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("holds 1000000 values; shape [1, 2] needs 2"), std::string::npos) << res->body;
  // ... and a million that do: half a million rows in one forward pass.
  million.replace(million.find("[1,2]"), 5, "[500000,2]");
  res = post(c, "/v2/models/half/infer", million);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const json big = json::parse(res->body)["outputs"][0];
  EXPECT_EQ(big["shape"], json({500000, 3}));
  EXPECT_EQ(big["data"][1499999], 1.0);
  // A shape that claims 10^12 values is refused before anything is allocated.
  res = post(c, "/v2/models/half/infer",
             R"({"inputs":[{"name":"input","shape":[500000000000,2],"datatype":"FP32","data":[1,2]}]})");
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(post(c, "/v2/models/half/infer", infer_body({{1, 1}}))->status, 200);  // still serving
}

TEST(Server, InvalidUtf8IsAnsweredAndLeaksNothing) {
  Served s;
  auto c = s.client();
  EXPECT_EQ(c.Get("/v2/models/%FF")->status, 404);
  const auto unknown = post(c, "/v2/models/%FF/infer", "{}");
  EXPECT_EQ(unknown->status, 404);
  EXPECT_TRUE(json::parse(unknown->body).contains("error"));
  const auto echoed = post(c, "/v2/models/half/infer",
                           R"({"id":")" + std::string("\xff") +
                               R"(","inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[1,1]}]})");
  EXPECT_EQ(echoed->status, 200);
  EXPECT_EQ(json::parse(echoed->body)["id"], "\xEF\xBF\xBD");  // U+FFFD
  // No request is still counted in flight: shutdown does not wait for one.
  const auto begin = std::chrono::steady_clock::now();
  s.server.shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(5));
}

// Sends raw bytes on a fresh connection and returns the status line's code (0 if none).
int raw_request(int port, const std::string& head, const std::function<bool(int)>& send_body) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return 0;
  ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  send_body(fd);
  char reply[256] = {};
  const ssize_t got = ::recv(fd, reply, sizeof reply - 1, 0);
  ::close(fd);
  return got > 12 ? std::atoi(reply + 9) : 0;
}

TEST(Server, AMillionChunksAreReadWithinTheBodyLimit) {
  Served s({.max_body_bytes = 1 << 20});
  const std::string head =
      "POST /v2/models/half/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: "
      "chunked\r\n\r\n";
  // 1,000,000 one-byte chunks of spaces (valid JSON whitespace, 5 MB on the wire) would
  // exceed the 1 MiB body limit: httplib stops reading at the limit and answers 400
  // (413 is only for a declared Content-Length); memory stays bounded, the server lives on.
  const int status = raw_request(s.port, head, [](int fd) {
    std::string batch;
    for (int i = 0; i < 1000; ++i) batch += "1\r\n \r\n";
    for (int i = 0; i < 1000; ++i)
      if (::send(fd, batch.data(), batch.size(), MSG_NOSIGNAL) < 0) return false;  // the server may stop reading
    ::send(fd, "0\r\n\r\n", 5, MSG_NOSIGNAL);
    return true;
  });
  EXPECT_TRUE(status == 400 || status == 413 || status == 0) << status;  // 0: it closed the connection on us
  auto c = s.client();
  EXPECT_EQ(post(c, "/v2/models/half/infer", infer_body({{1, 1}}))->status, 200);
  // Within the limit, a body in a thousand chunks is put back together.
  const std::string body = infer_body({{2, 4}});
  const int ok = raw_request(s.port, head, [&](int fd) {
    for (char ch : body) {
      const std::string chunk = "1\r\n" + std::string(1, ch) + "\r\n";
      ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    }
    ::send(fd, "0\r\n\r\n", 5, MSG_NOSIGNAL);
    return true;
  });
  EXPECT_EQ(ok, 200);
}

TEST(Server, ConcurrentClientsAllGetTheirOwnAnswersInBatches) {
  Served s({.max_batch = 64, .batch_timeout_us = 2000});
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 16; ++t)
    clients.emplace_back([&, t] {
      auto c = s.client();
      for (int i = 0; i < 50; ++i) {
        const float a = static_cast<float>(t), b = static_cast<float>(i);
        const auto res = post(c, "/v2/models/half/infer", infer_body({{a, b}}));
        if (!res || res->status != 200 || json::parse(res->body)["outputs"][0]["data"][0] != 0.5 * (a + b)) {
          ++wrong;
          ADD_FAILURE() << (res ? std::to_string(res->status) + " " + res->body
                                : "transport error " + httplib::to_string(res.error()));
        }
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(wrong, 0);
  // The batch-size histogram shows passes of more than one row.
  const std::string metrics = s.client().Get("/metrics")->body;
  EXPECT_NE(metrics.find("axon_requests_total{model=\"half\",version=\"1\",code=\"200\"} 800"), std::string::npos)
      << metrics;
  const std::string ones = "axon_batch_size_bucket{model=\"half\",version=\"1\",le=\"1\"} ";
  const size_t at = metrics.find(ones);
  ASSERT_NE(at, std::string::npos) << metrics;
  const long single_row_batches = std::stol(metrics.substr(at + ones.size()));
  EXPECT_LT(single_row_batches, 800) << "no request was batched with another";
}

TEST(Server, FullQueueAnswers503AtOnce) {
  Served s({.max_queue = 1});
  auto c = s.client();
  const auto res = post(c, "/v2/models/half/infer", infer_body({{1, 2}, {3, 4}}));
  EXPECT_EQ(res->status, 503);
  EXPECT_NE(res->body.find("queue is full"), std::string::npos);
  EXPECT_EQ(post(c, "/v2/models/half/infer", infer_body({{1, 2}}))->status, 200);
}

TEST(Server, ShutdownFinishesRequestsInFlightThenCloses) {
  Served s({.max_batch = 1000, .batch_timeout_us = 300000});  // requests wait 0.3 s in the batcher
  std::vector<int> statuses(4, 0);
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&, t] {
      auto c = s.client();
      const auto res = post(c, "/v2/models/half/infer", infer_body({{1, 1}}));
      statuses[static_cast<size_t>(t)] = res ? res->status : -1;
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  s.server.shutdown();
  for (auto& t : clients) t.join();
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 200, 200}));
  EXPECT_FALSE(s.server.ready());
  EXPECT_FALSE(s.client().Get("/v2/health/live"));  // the port is closed
}

TEST(Server, ShutdownFromAnotherThreadRefusesNewWorkAndFinishesTheRest) {
  Served s({.max_batch = 1000, .batch_timeout_us = 400000});
  std::thread in_flight([&] {
    auto c = s.client();
    const auto res = post(c, "/v2/models/half/infer", infer_body({{2, 2}}));
    EXPECT_TRUE(res && res->status == 200 && json::parse(res->body)["outputs"][0]["data"][0] == 2.0);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::thread stopper([&] { s.server.shutdown(); });
  std::thread stopper_too([&] { s.server.shutdown(); });  // twice, at once
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(s.server.ready());
  auto c = s.client();  // the listener still runs while a request is in flight
  const auto readiness = c.Get("/v2/health/ready");
  ASSERT_TRUE(readiness);
  EXPECT_EQ(readiness->status, 503);
  EXPECT_EQ(json::parse(readiness->body)["ready"], false);
  const auto refused = post(c, "/v2/models/half/infer", infer_body({{1, 1}}));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("shutting down"), std::string::npos);
  for (std::thread* t : {&in_flight, &stopper, &stopper_too}) t->join();
  s.server.shutdown();  // and once more, after it stopped
  EXPECT_FALSE(s.client().Get("/v2/health/live"));
}

TEST(Server, ShutdownStraightAfterStartDoesNotHang) {
  for (int i = 0; i < 50; ++i) {
    InferenceServer server({.port = 0});
    server.add_model("m", halving_model(), Shape{2});
    server.start();
    server.shutdown();
  }
}

// Runs curl and returns what it printed (with -w "%{http_code}" last).
std::string curl(const std::string& arguments) {
  std::string output;
  FILE* pipe = ::popen(("/usr/bin/curl -s -S --max-time 10 " + arguments).c_str(), "r");
  if (!pipe) return output;
  char buffer[4096];
  while (const size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  ::pclose(pipe);
  return output;
}

TEST(Server, CurlSpeaksToIt) {
  if (::access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/curl";
  Served s({.max_body_bytes = 4096});
  const std::string base = "http://127.0.0.1:" + std::to_string(s.port);
  EXPECT_EQ(curl("-w '%{http_code}' " + base + "/v2/health/ready"), R"({"ready":true}200)");
  const std::string answer = curl("-H 'Content-Type: application/json' -d '" + infer_body({{1, 3}}, "c1") + "' " +
                                  base + "/v2/models/half/infer");
  EXPECT_EQ(json::parse(answer)["outputs"][0]["data"], json({2.0, 2.0, 2.0})) << answer;
  EXPECT_EQ(json::parse(answer)["id"], "c1");
  EXPECT_EQ(curl("-o /dev/null -w '%{http_code}' -X DELETE " + base + "/v2/models/half/infer"), "405");
  EXPECT_EQ(curl("-o /dev/null -w '%{http_code}' " + base + "/v2/models/nope"), "404");
  // A body over the limit, from a file: refused from its Content-Length.
  const std::string big = testing::TempDir() + "axon_curl_body.json";
  {
    std::FILE* f = std::fopen(big.c_str(), "w");
    ASSERT_TRUE(f);
    const std::string body(8192, ' ');
    std::fwrite(body.data(), 1, body.size(), f);
    std::fclose(f);
  }
  EXPECT_EQ(curl("-o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @" + big + " " +
                 base + "/v2/models/half/infer"),
            "413");
  std::remove(big.c_str());
}

TEST(Server, ConfigurationErrors) {
  EXPECT_THROW(InferenceServer({.max_batch = 0}), Error);
  InferenceServer server({.port = 0});
  for (const char* name : {"bad/name", "", "a b", "q\"uote", "x:predict"})
    EXPECT_THROW(server.add_model(name, halving_model(), Shape{2}), Error) << name;
  server.add_model("good-name_1.0", halving_model(), Shape{2});
  EXPECT_THROW(server.add_model("good-name_1.0", halving_model(), Shape{2}), Error);  // twice
  auto built = halving_model();
  built->build(Shape{2});
  EXPECT_THROW(server.add_model("m", built, Shape{5}), Error);  // the model takes 2 features
  auto empty = std::make_shared<Sequential>();
  EXPECT_THROW(server.add_model("e", empty, Shape{2}), Error);  // no layers
  EXPECT_THROW(server.add_model("n", nullptr, Shape{2}), Error);
  InferenceServer taken({.port = 0});
  taken.add_model("m", halving_model(), Shape{2});
  const int port = taken.start();
  InferenceServer second({.port = port});
  second.add_model("m", halving_model(), Shape{2});
  EXPECT_THROW(second.start(), Error);
}

}  // namespace
}  // namespace axon
