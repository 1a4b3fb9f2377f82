// The server's HTTP layer against hostile clients, over raw sockets on loopback: every
// limit holds for every framing, slow and idle clients starve no one, pipelined
// requests are answered in order, ambiguous framing is refused, numbers a datatype
// cannot hold are refused. Each test here failed on the thread-per-connection server.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "axon/axon.h"
#include "axon/inference_server.h"
#include "halving_server.h"
#include "serve/http_server.h"

namespace axon {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

using test_support::halving_model;
using test_support::Served;

// A raw client socket: the bytes we send are exactly the bytes on the wire.
struct Socket {
  explicit Socket(int port) : fd(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  }
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Reads until `count` whole responses arrived, the peer closed, or the timeout.
  std::vector<std::pair<int, std::string>> responses(size_t count, double seconds = 10) {
    std::vector<std::pair<int, std::string>> out;
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (out.size() < count) {
      // Parse whatever whole responses are in `pending`.
      const size_t end = pending.find("\r\n\r\n");
      if (end != std::string::npos) {
        const std::string head = pending.substr(0, end);
        size_t length = 0;
        const size_t at = head.find("Content-Length: ");
        if (at != std::string::npos) length = std::stoul(head.substr(at + 16));
        if (pending.size() >= end + 4 + length) {
          out.emplace_back(std::stoi(head.substr(9, 3)), pending.substr(end + 4, length));
          pending.erase(0, end + 4 + length);
          continue;
        }
      }
      const int left =
          static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
      pollfd p{fd, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, left) <= 0) break;
      char buffer[65536];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      pending.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }
  bool closed_by_peer(double seconds) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(seconds * 1000)) <= 0) return false;
    char byte;
    return ::recv(fd, &byte, 1, MSG_PEEK) <= 0;
  }

  int fd;
  bool connected = false;
  std::string pending;
};

std::string infer_body(const std::string& data, const std::string& datatype = "FP32") {
  return R"({"inputs":[{"name":"input","shape":[1,2],"datatype":")" + datatype + R"(","data":)" + data + "}]}";
}

std::string post(const std::string& body, const std::string& extra_headers = "") {
  return "POST /v2/models/half/infer HTTP/1.1\r\nHost: x\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// AddressSanitizer's quarantine and shadow memory make the process's RSS say nothing
// about the server's buffers: the memory bounds are checked in the Release build.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRssIsMeaningful = false;
#else
constexpr bool kRssIsMeaningful = true;
#endif

int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

TEST(HttpLimits, ChunkedBodyOverTheLimitGets413WithoutBeingBuffered) {
  Served s({.max_body_bytes = 1 << 20});
  const int64_t before = resident_bytes();
  Socket c(s.port);
  ASSERT_TRUE(c.send("POST /v2/models/half/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  // 256 MiB in 64 KiB chunks, sent until the server stops reading and closes.
  std::thread sender([&] {
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%x\r\n", 65536);
    const std::string chunk = size_line + std::string(65536, ' ') + "\r\n";
    for (int i = 0; i < 4096 && c.send(chunk); ++i) {}
  });
  const auto answers = c.responses(1);
  sender.join();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].first, 413);
  EXPECT_NE(answers[0].second.find("larger than 1048576 bytes"), std::string::npos) << answers[0].second;
  if (kRssIsMeaningful) {
    EXPECT_LT(resident_bytes() - before, 2 << 20);
  }
}

TEST(HttpLimits, ABodyWithoutALengthIsNoBody) {
  Served s({.max_body_bytes = 1 << 20});
  Socket c(s.port);
  // HTTP/1.1: no Content-Length and no Transfer-Encoding means no body. What follows is
  // read as the next request, which is not one: 400, then the connection closes.
  ASSERT_TRUE(c.send("POST /v2/models/half/infer HTTP/1.1\r\nHost: x\r\n\r\n" + std::string(4 << 20, 'x')));
  const auto answers = c.responses(2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].first, 400);  // an empty body is not an inference request
  EXPECT_EQ(answers[1].first, 431);  // 4 MiB of 'x' is no request line
  EXPECT_TRUE(c.closed_by_peer(5));
}

TEST(HttpLimits, HugeHeadersGet431WithoutBeingBuffered) {
  Served s;
  // The client's own bytes exist before the measurement: growth is the server's.
  std::string many_headers = "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 200000; ++i) many_headers += "X-" + std::to_string(i) + ": y\r\n";
  many_headers += "\r\n";
  const std::string block(1 << 20, 'a');
  std::thread warm([] {});  // the first thread's arena
  warm.join();
  const int64_t before = resident_bytes();
  {
    Socket many(s.port);
    std::thread sender([&] { many.send(many_headers); });
    const auto answers = many.responses(1);
    sender.join();
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].first, 431);
  }
  {
    Socket longline(s.port);  // a 100 MiB header line
    std::thread sender([&] {
      longline.send("GET /v2/health/live HTTP/1.1\r\nX-Long: ");
      for (int i = 0; i < 100 && longline.send(block); ++i) {}
    });
    const auto answers = longline.responses(1);
    sender.join();
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].first, 431);
  }
  if (kRssIsMeaningful) {
    EXPECT_LT(resident_bytes() - before, 1 << 20);
  }
  // Many small headers within the byte limit are still too many.
  Socket counted(s.port);
  std::string request = "GET /v2/health/live HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) request += "X" + std::to_string(i) + ": y\r\n";
  ASSERT_TRUE(counted.send(request + "\r\n"));
  const auto answers = counted.responses(1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].first, 431);
  EXPECT_NE(answers[0].second.find("more than 100 header fields"), std::string::npos);
}

TEST(HttpLimits, IdleAndSlowClientsStarveNoOne) {
  rlimit descriptors{};
  getrlimit(RLIMIT_NOFILE, &descriptors);
  descriptors.rlim_cur = descriptors.rlim_max;
  setrlimit(RLIMIT_NOFILE, &descriptors);
  if (descriptors.rlim_cur < 2200)
    GTEST_SKIP() << "needs 2,200 file descriptors; the hard limit is " << descriptors.rlim_max;
  Served s({.threads = 2, .request_timeout_ms = 1500});
  std::vector<std::unique_ptr<Socket>> idle;
  for (int i = 0; i < 1000; ++i) idle.push_back(std::make_unique<Socket>(s.port));
  // 16 slow lorises: a byte every 50 ms, a request that never ends.
  std::atomic<bool> done{false};
  std::vector<std::unique_ptr<Socket>> slow;
  for (int i = 0; i < 16; ++i) slow.push_back(std::make_unique<Socket>(s.port));
  std::thread loris([&] {
    const std::string request = "POST /v2/models/half/infer HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    for (size_t i = 0; !done; ++i) {
      for (auto& c : slow) c->send(std::string(1, i < request.size() ? request[i] : 'z'));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int round = 0; round < 3; ++round) {
    Socket good(s.port);
    const auto start = Clock::now();
    ASSERT_TRUE(good.send(post(infer_body("[1, 3]"))));
    const auto answers = good.responses(1, 1.0);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    ASSERT_EQ(answers.size(), 1u) << "no answer within 1 s";
    EXPECT_EQ(answers[0].first, 200);
    EXPECT_LT(seconds, 1.0);
  }
  // The whole-request deadline (1.5 s) ends the slow requests, however steadily they trickle.
  for (auto& c : slow) EXPECT_TRUE(c->closed_by_peer(3));
  done = true;
  loris.join();
}

TEST(HttpLimits, PipelinedRequestsAreAnsweredInOrder) {
  Served s;
  Socket gets(s.port);
  std::string five;
  for (const char* path : {"/v2/health/live", "/v2/models/half", "/v2/nothing", "/v2/health/ready", "/v2"})
    five += std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(gets.send(five));
  const auto answers = gets.responses(5);
  ASSERT_EQ(answers.size(), 5u);
  EXPECT_EQ(answers[0].second, R"({"live":true})");
  EXPECT_EQ(json::parse(answers[1].second)["name"], "half");
  EXPECT_EQ(answers[2].first, 404);
  EXPECT_EQ(answers[3].second, R"({"ready":true})");
  EXPECT_EQ(json::parse(answers[4].second)["name"], "axon");

  Socket posts(s.port);
  ASSERT_TRUE(posts.send(post(infer_body("[1, 3]")) + post("{bad") + post(infer_body("[5, 7]"))));
  const auto three = posts.responses(3);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(three[0].first, 200);
  EXPECT_EQ(json::parse(three[0].second)["outputs"][0]["data"][0], 2.0);
  EXPECT_EQ(three[1].first, 400);
  EXPECT_EQ(three[2].first, 200);
  EXPECT_EQ(json::parse(three[2].second)["outputs"][0]["data"][0], 6.0);
}

TEST(HttpLimits, AmbiguousFramingGets400) {
  Served s;
  const std::string body = infer_body("[1, 3]");
  const std::string head = "POST /v2/models/half/infer HTTP/1.1\r\nHost: x\r\n";
  const std::string length = "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const std::string& request : {head + length + "Content-Length: 5\r\n\r\n" + body,  // conflicting
                                     head + length + length + "\r\n" + body,              // repeated
                                     head + length + "Transfer-Encoding: chunked\r\n\r\n" + body}) {
    Socket c(s.port);
    ASSERT_TRUE(c.send(request));
    const auto answers = c.responses(1);
    ASSERT_EQ(answers.size(), 1u) << request;
    EXPECT_EQ(answers[0].first, 400) << request << " -> " << answers[0].second;
  }
}

TEST(HttpLimits, AClientThatHalfClosesGetsItsAnswer) {
  Served s;
  Socket c(s.port);
  ASSERT_TRUE(c.send(post(infer_body("[2, 4]"))));
  ::shutdown(c.fd, SHUT_WR);
  const auto answers = c.responses(1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].first, 200);
  EXPECT_EQ(json::parse(answers[0].second)["outputs"][0]["data"][0], 3.0);
}

TEST(HttpLimits, AnyContentTypeAndExpectContinueWork) {
  Served s;
  // 20 KB of padding and no Content-Type: the body is JSON all the same.
  const std::string padded = R"({"pad":")" + std::string(20000, 'p') + R"(",)" + infer_body("[1, 1]").substr(1);
  Socket c(s.port);
  ASSERT_TRUE(c.send(post(padded, "Content-Type: text/plain\r\n")));
  auto answers = c.responses(1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].first, 200) << answers[0].second;
  // Expect: 100-continue is answered before the body is sent.
  const std::string body = infer_body("[3, 3]");
  ASSERT_TRUE(c.send("POST /v2/models/half/infer HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n"));
  answers = c.responses(1, 2);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].first, 100);
  ASSERT_TRUE(c.send(body));
  answers = c.responses(1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(json::parse(answers[0].second)["outputs"][0]["data"][0], 3.0);
}

TEST(HttpLimits, NumbersADatatypeCannotHoldGet400NamingTheElement) {
  Served s;
  Socket c(s.port);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {infer_body("[1, 1e400]"), "input \"input\": data[1] is beyond float32's range"},
      {infer_body("[1e39, 0]"), "input \"input\": data[0] is beyond float32's range"},
      {infer_body("[1, 1000]", "INT8"), "data[1] = 1000 is above INT8's range [-128, 127]"},
      {infer_body("[-1, 2]", "UINT8"), "data[0] = -1 is below UINT8's range [0, 255]"},
      {infer_body("[1.5, 2]", "INT32"), "data[0] is not a whole number, as datatype INT32 requires"},
      {infer_body("[70000, 2]", "FP16"), "data[0] = 70000 is above FP16's range"},
  };
  for (const auto& [body, message] : cases) {
    ASSERT_TRUE(c.send(post(body)));
    const auto answers = c.responses(1);
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].first, 400) << body;
    EXPECT_NE(json::parse(answers[0].second)["error"].get<std::string>().find(message), std::string::npos)
        << answers[0].second;
  }
  ASSERT_TRUE(c.send(post(infer_body("[127, -128]", "INT8"))));  // the extremes themselves are fine
  EXPECT_EQ(c.responses(1).at(0).first, 200);
  const std::string tf_body = R"({"instances":[[1,1e99]]})";
  ASSERT_TRUE(c.send("POST /v1/models/half:predict HTTP/1.1\r\nContent-Length: " + std::to_string(tf_body.size()) +
                     "\r\n\r\n" + tf_body));
  const auto tf = c.responses(1);
  ASSERT_EQ(tf.size(), 1u);
  EXPECT_EQ(tf[0].first, 400);
  EXPECT_NE(tf[0].second.find("instance 0, value 1 is beyond float32's range"), std::string::npos) << tf[0].second;
}

TEST(HttpLimits, ConnectionsBeyondTheLimitGet503) {
  Served s({.max_connections = 4});
  std::vector<std::unique_ptr<Socket>> open;
  for (int i = 0; i < 4; ++i) {
    open.push_back(std::make_unique<Socket>(s.port));
    ASSERT_TRUE(open.back()->send("GET /v2/health/live HTTP/1.1\r\n\r\n"));
    ASSERT_EQ(open.back()->responses(1).size(), 1u);  // accepted and counted
  }
  Socket fifth(s.port);
  const auto refused = fifth.responses(1);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].first, 503);
  EXPECT_NE(refused[0].second.find("too many open connections"), std::string::npos);
  open.pop_back();  // one closes: room again
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Socket again(s.port);
  ASSERT_TRUE(again.send("GET /v2/health/live HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(again.responses(1).at(0).first, 200);
}

// A burst of new connections is taken at once. Taken one per turn of the event loop,
// behind every ready request, 1,000 clients arriving together on a busy server waited
// up to 3 s for their first request to be read (wrk counted them as timeouts).
TEST(HttpLimits, ABurstOfNewConnectionsIsAcceptedAtOnce) {
  std::mutex mutex;
  std::string handled;  // 'b' for a busy client's request, 'n' for a newcomer's, in order
  std::promise<void> entered, open;
  std::shared_future<void> gate = open.get_future().share();
  serve::HttpServer server({}, 1, [&](serve::HttpRequest&& request, serve::Respond respond) {
    if (request.target == "/gate") {  // holds the one I/O thread until the stage is set
      entered.set_value();
      gate.wait();
    } else {
      std::lock_guard lock(mutex);
      handled += request.target[1];
    }
    respond([] { return serve::HttpResponse{.body = "{}"}; });
  }, nullptr);
  const int port = server.listen("127.0.0.1", 0);
  server.start();
  constexpr int kBusy = 4, kPipelined = 300, kNewcomers = 100;
  std::vector<std::unique_ptr<Socket>> busy, newcomers;
  for (int i = 0; i < kBusy; ++i) {
    busy.push_back(std::make_unique<Socket>(port));
    ASSERT_TRUE(busy.back()->send("GET /warm HTTP/1.1\r\n\r\n"));
    ASSERT_EQ(busy.back()->responses(1).size(), 1u);  // accepted
  }
  Socket holder(port);
  ASSERT_TRUE(holder.send("GET /gate HTTP/1.1\r\n\r\n"));
  entered.get_future().wait();
  // While the thread is held: every busy client has 300 requests in flight, and 100
  // newcomers wait in the listen queue with a request each.
  std::string requests;
  for (int i = 0; i < kPipelined; ++i) requests += "GET /b HTTP/1.1\r\n\r\n";
  for (auto& client : busy) ASSERT_TRUE(client->send(requests));
  for (int i = 0; i < kNewcomers; ++i) {
    newcomers.push_back(std::make_unique<Socket>(port));
    ASSERT_TRUE(newcomers.back()->connected);
    ASSERT_TRUE(newcomers.back()->send("GET /n HTTP/1.1\r\n\r\n"));
  }
  {
    std::lock_guard lock(mutex);
    handled.clear();
  }
  open.set_value();
  for (auto& client : newcomers) ASSERT_EQ(client->responses(1).size(), 1u);
  for (auto& client : busy) ASSERT_EQ(client->responses(kPipelined).size(), size_t{kPipelined});
  std::lock_guard lock(mutex);
  const size_t first = handled.find('n'), last = handled.rfind('n');
  ASSERT_NE(first, std::string::npos);
  const auto busy_between = std::count(handled.begin() + first, handled.begin() + last, 'b');
  // Taken at once, the newcomers are answered one after another (0 busy requests
  // between them); taken one per turn, a busy request came between each two (100).
  EXPECT_LT(busy_between, 40) << handled;
}

TEST(HttpLimits, TheAccessLogHasALinePerRequest) {
  const std::string path = testing::TempDir() + "axon_access.log";
  std::remove(path.c_str());
  {
    Served s({.access_log = path});
    Socket c(s.port);
    ASSERT_TRUE(c.send(post(infer_body("[1, 3]")) + "GET /v2/nothing HTTP/1.1\r\n\r\n"));
    ASSERT_EQ(c.responses(2).size(), 2u);
  }
  std::ifstream log(path);
  std::string first, second, third;
  std::getline(log, first);
  std::getline(log, second);
  EXPECT_FALSE(std::getline(log, third));
  EXPECT_NE(first.find("Z 127.0.0.1:"), std::string::npos) << first;
  EXPECT_NE(first.find(" \"POST /v2/models/half/infer\" 200 "), std::string::npos) << first;
  EXPECT_NE(second.find("404"), std::string::npos) << second;
}

}  // namespace
}  // namespace axon
