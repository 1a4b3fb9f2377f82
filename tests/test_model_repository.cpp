// The model repository: version policies, serving by version, a new version swapped in
// under load with no failed request, a broken version rejected while the previous one
// keeps serving, and model control.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "axon/axon.h"
#include "axon/inference_server.h"
#include "serve/model_repository.h"

namespace axon {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using serve::VersionPolicy;

TEST(VersionPolicy, ParsesAndChooses) {
  const std::vector<int64_t> available = {1, 3, 2, 7};
  EXPECT_EQ(VersionPolicy::parse("latest").choose(available), (std::vector<int64_t>{7}));
  EXPECT_EQ(VersionPolicy::parse("latest:2").choose(available), (std::vector<int64_t>{7, 3}));
  EXPECT_EQ(VersionPolicy::parse("latest:9").choose(available), (std::vector<int64_t>{7, 3, 2, 1}));
  EXPECT_EQ(VersionPolicy::parse("all").choose(available), (std::vector<int64_t>{7, 3, 2, 1}));
  EXPECT_EQ(VersionPolicy::parse("specific:2,9,1").choose(available), (std::vector<int64_t>{2, 1}));
  for (const char* bad : {"", "latest:0", "latest:-1", "latest:x", "specific:", "specific:1,,2", "newest", "all:2"})
    EXPECT_THROW(VersionPolicy::parse(bad), Error) << bad;
}

// y = scale * (x0 + x1) in each of 3 outputs: each version answers differently.
void save_version(const fs::path& repository, const std::string& name, int version, float scale) {
  Sequential model(Shape{2});
  model.add(Dense(3, "linear", {.kernel_initializer = Initializer::constant(scale)}));
  model.build(Shape{2});
  // Written beside the repository and moved in whole, as a deployment should.
  const fs::path staging = repository.parent_path() / ("staging_" + std::to_string(version));
  fs::create_directories(staging);
  save_model(model, (staging / "model.safetensors").string());
  fs::create_directories(repository / name);
  fs::rename(staging, repository / name / std::to_string(version));
}

fs::path fresh_repository(const std::string& test) {
  const fs::path root = fs::path(testing::TempDir()) / ("axon_repository_" + test);
  fs::remove_all(root);
  fs::create_directories(root / "models");
  return root / "models";
}

std::string infer_body(float a, float b) {
  return json{{"inputs", {{{"name", "x"}, {"shape", {1, 2}}, {"datatype", "FP32"}, {"data", {a, b}}}}}}.dump();
}

struct Answer {
  int status = -1;
  std::string version;
  double first = 0;
};

Answer infer(httplib::Client& c, const std::string& path = "/v2/models/m/infer") {
  const auto res = c.Post(path, infer_body(1, 1), "application/json");
  if (!res) return {};
  Answer answer{res->status};
  if (res->status == 200) {
    const json body = json::parse(res->body);
    answer.version = body["model_version"];
    answer.first = body["outputs"][0]["data"][0];
  }
  return answer;
}

TEST(ModelRepository, ServesTheNewestAndEachVersionByNumber) {
  const fs::path repository = fresh_repository("versions");
  save_version(repository, "m", 1, 0.5f);
  save_version(repository, "m", 2, 1.0f);
  fs::create_directories(repository / "m" / "notes");  // not a version: ignored
  InferenceServer server({.port = 0});
  server.add_repository({.path = repository.string(), .version_policy = "all", .poll_ms = 0});
  httplib::Client c("127.0.0.1", server.start());
  Answer newest = infer(c);
  EXPECT_EQ(newest.status, 200);
  EXPECT_EQ(newest.version, "2");
  EXPECT_EQ(newest.first, 2.0);
  Answer first = infer(c, "/v2/models/m/versions/1/infer");
  EXPECT_EQ(first.version, "1");
  EXPECT_EQ(first.first, 1.0);
  EXPECT_EQ(infer(c, "/v2/models/m/versions/3/infer").status, 404);
  EXPECT_EQ(infer(c, "/v2/models/m/versions/x/infer").status, 404);
  EXPECT_EQ(json::parse(c.Get("/v2/models/m")->body)["versions"], json({"2", "1"}));
  EXPECT_EQ(c.Get("/v2/models/m/versions/1/ready")->status, 200);
  EXPECT_EQ(c.Get("/v2/models/m/versions/5/ready")->status, 404);
  const json tf = json::parse(c.Get("/v1/models/m")->body)["model_version_status"];
  EXPECT_EQ(tf.size(), 2u);
  const auto predicted = c.Post("/v1/models/m/versions/1:predict", R"({"instances": [[2, 2]]})", "application/json");
  EXPECT_EQ(json::parse(predicted->body)["predictions"], json({{2.0, 2.0, 2.0}}));
  const std::string metrics = c.Get("/metrics")->body;
  EXPECT_NE(metrics.find("axon_requests_total{model=\"m\",version=\"1\",code=\"200\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("axon_queue_rows{model=\"m\",version=\"2\"} 0"), std::string::npos);
}

// 16 clients send requests while version 2 arrives, then a corrupt version 3: not one
// request fails, answers move to version 2 within the poll interval, and version 2
// keeps serving past the broken 3.
TEST(ModelRepository, NewVersionsSwapInUnderLoadAndBrokenOnesAreRejected) {
  const fs::path repository = fresh_repository("swap");
  save_version(repository, "m", 1, 0.5f);
  InferenceServer server({.port = 0});
  server.add_repository({.path = repository.string(), .poll_ms = 100});
  const int port = server.start();
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0}, answered{0};
  std::atomic<int> newest_seen{1};
  std::vector<std::thread> clients;
  for (int t = 0; t < 16; ++t)
    clients.emplace_back([&] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(10, 0);
      while (!stop) {
        const Answer a = infer(c);
        ++answered;
        const bool consistent = (a.version == "1" && a.first == 1.0) || (a.version == "2" && a.first == 2.0);
        if (a.status != 200 || !consistent) {
          ++failed;
          continue;
        }
        if (a.version == "2") newest_seen = 2;
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  save_version(repository, "m", 2, 1.0f);
  const auto added = std::chrono::steady_clock::now();
  while (newest_seen != 2 && std::chrono::steady_clock::now() - added < std::chrono::seconds(5))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double switch_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - added).count();
  EXPECT_EQ(newest_seen, 2);
  EXPECT_LT(switch_seconds, 1.0) << "poll interval 0.1 s, plus loading";
  // Version 3 is a truncated file.
  fs::create_directories(repository / "staging_3");
  std::ofstream(repository / "staging_3" / "model.safetensors") << "\x10\x00\x00\x00\x00\x00\x00\x00{\"trunc";
  fs::rename(repository / "staging_3", repository / "m" / "3");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed, 0) << "of " << answered;
  EXPECT_GT(answered, 100);
  httplib::Client c("127.0.0.1", port);
  EXPECT_EQ(infer(c).version, "2");
  const json index = json::parse(c.Post("/v2/repository/index", "", "application/json")->body);
  ASSERT_EQ(index.size(), 3u) << index;
  EXPECT_EQ(index[0]["state"], "UNAVAILABLE");  // 1: not chosen by latest:1
  EXPECT_EQ(index[1]["state"], "READY");
  EXPECT_EQ(index[2]["state"], "UNAVAILABLE");
  EXPECT_NE(index[2]["reason"].get<std::string>().find("model.safetensors"), std::string::npos) << index;
  // Removing version 2 falls back to 1 (3 is still broken).
  fs::remove_all(repository / "m" / "2");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(infer(c).version, "1");
}

TEST(ModelRepository, ModelControlIsExplicitAndOff) {
  const fs::path repository = fresh_repository("control");
  save_version(repository, "m", 1, 0.5f);
  {
    InferenceServer server({.port = 0});
    server.add_repository({.path = repository.string(), .poll_ms = 0});
    httplib::Client c("127.0.0.1", server.start());
    const auto refused = c.Post("/v2/repository/models/m/unload", "", "application/json");
    EXPECT_EQ(refused->status, 403);
    EXPECT_NE(refused->body.find("--allow-model-control"), std::string::npos);
  }
  InferenceServer server({.port = 0});
  server.add_repository({.path = repository.string(), .poll_ms = 0, .allow_model_control = true});
  httplib::Client c("127.0.0.1", server.start());
  EXPECT_EQ(c.Post("/v2/repository/models/m/unload", "", "application/json")->status, 200);
  EXPECT_EQ(infer(c).status, 404);
  EXPECT_EQ(c.Get("/v2/models/m/ready")->status, 404);
  // A version added while unloaded is served by the next load.
  save_version(repository, "m", 4, 2.0f);
  EXPECT_EQ(c.Post("/v2/repository/models/m/load", "", "application/json")->status, 200);
  const Answer a = infer(c);
  EXPECT_EQ(a.version, "4");
  EXPECT_EQ(a.first, 4.0);
  EXPECT_EQ(c.Post("/v2/repository/models/other/load", "", "application/json")->status, 404);
  // A model whose only version is broken fails to load, saying why.
  fs::create_directories(repository / "broken" / "1");
  std::ofstream(repository / "broken" / "1" / "model.safetensors") << "not a model";
  const auto broken = c.Post("/v2/repository/models/broken/load", "", "application/json");
  EXPECT_EQ(broken->status, 400);
  EXPECT_NE(broken->body.find("version 1: "), std::string::npos) << broken->body;
}

}  // namespace
}  // namespace axon
