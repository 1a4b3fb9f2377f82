// The inference server over real HTTP on loopback: every endpoint and error code,
// hostile bodies, concurrency with dynamic batching, full queues and graceful shutdown.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "axon/axon.h"
#include "axon/inference_server.h"

namespace axon {
namespace {

using json = nlohmann::json;

// y = 0.5 * (x0 + x1) in each of 3 outputs: answers are easy to check by hand.
std::shared_ptr<Model> halving_model() {
  auto model = std::make_shared<Sequential>(Shape{2});
  model->add(Dense(3, "linear", {.kernel_initializer = Initializer::constant(0.5)}));
  return model;
}

struct Served {
  explicit Served(ServerOptions options = {}) : server(with_free_port(options)) {
    server.add_model("half", halving_model(), Shape{2});
    port = server.start();
  }
  static ServerOptions with_free_port(ServerOptions o) {
    o.port = 0;
    return o;
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    return c;
  }
  InferenceServer server;
  int port = 0;
};

std::string infer_body(const std::vector<std::vector<float>>& rows, const std::string& id = "") {
  json body = {{"inputs", {{{"name", "input"}, {"shape", {rows.size(), 2}}, {"datatype", "FP32"}, {"data", rows}}}}};
  if (!id.empty()) body["id"] = id;
  return body.dump();
}

httplib::Result post(httplib::Client& c, const std::string& path, const std::string& body) { return c.Post(path, body, "application/json"); }

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
  res = post(c, "/v2/models/half/infer",
             R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[2,2]}],"outputs":[{"name":"output"}]})");
  EXPECT_EQ(json::parse(res->body)["outputs"][0]["data"], json({2.0, 2.0, 2.0}));
  res = post(c, "/v1/models/half:predict", R"({"instances": [[1, 1], [0, 4]]})");
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["predictions"], json({{1.0, 1.0, 1.0}, {2.0, 2.0, 2.0}}));
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
      {"/v2/models/half/infer", R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"INT8","data":[1,2]}]})", 400, "datatype"},
      {"/v2/models/half/infer", R"({"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]})", 400,
       "input shape [1, 3] does not match the model's [-1, 2]"},
      {"/v2/models/half/infer", R"({"inputs":[{"name":"input","shape":[2,2],"datatype":"FP32","data":[1,2,3]}]})", 400,
       "\"data\" holds 3 values; shape [2, 2] needs 4"},
      {"/v2/models/half/infer", R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[1,"x"]}]})", 400, "only numbers"},
      {"/v2/models/half/infer", R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[1,2]}],"outputs":[{"name":"probs"}]})",
       400, "unknown output"},
      {"/v2/models/half/infer", R"({"inputs":[]})", 400, "exactly one tensor"},
      {"/v1/models/half:predict", R"({"instances":[[1,2,3]]})", 400, "instance 0 holds 3 values; the model takes 2"},
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
  auto padded = [&](size_t size) { return base.substr(0, base.size() - 1) + R"(,"pad":")" + std::string(size - base.size() - 9, 'x') + "\"}"; };
  EXPECT_EQ(post(c, "/v2/models/half/infer", padded(4096 - 128))->status, 200);
  const auto over = post(c, "/v2/models/half/infer", padded(4096 + 128));
  EXPECT_EQ(over->status, 413);
  EXPECT_EQ(json::parse(over->body)["error"], "request body too large");
}

TEST(Server, HostileBodiesDoNotHurtIt) {
  Served s;
  auto c = s.client();
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto res = post(c, "/v2/models/half/infer", deep);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("nested deeper than 64"), std::string::npos);
  // A million numbers that do not fit the claimed shape.
  std::string million = R"({"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[)";
  for (int i = 0; i < 1000000; ++i) million += i ? ",1" : "1";
  million += "]}]}";
  res = post(c, "/v2/models/half/infer", million);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  // A shape that claims 10^12 values is refused before anything is allocated.
  res = post(c, "/v2/models/half/infer", R"({"inputs":[{"name":"input","shape":[500000000000,2],"datatype":"FP32","data":[1,2]}]})");
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(post(c, "/v2/models/half/infer", infer_body({{1, 1}}))->status, 200);  // still serving
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
  const std::string head = "POST /v2/models/half/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
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
          ADD_FAILURE() << (res ? std::to_string(res->status) + " " + res->body : "transport error " + httplib::to_string(res.error()));
        }
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(wrong, 0);
  // The batch-size histogram shows passes of more than one row.
  const std::string metrics = s.client().Get("/metrics")->body;
  EXPECT_NE(metrics.find("axon_requests_total{model=\"half\",code=\"200\"} 800"), std::string::npos) << metrics;
  const std::string ones = "axon_batch_size_bucket{model=\"half\",le=\"1\"} ";
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

TEST(Server, ConfigurationErrors) {
  EXPECT_THROW(InferenceServer({.max_batch = 0}), Error);
  InferenceServer server({.port = 0});
  EXPECT_THROW(server.add_model("bad/name", halving_model(), Shape{2}), Error);
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
