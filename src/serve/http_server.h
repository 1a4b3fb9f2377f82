#pragma once
// An event-driven HTTP/1.1 server (Boost.Beast on Asio): a few I/O threads serve
// thousands of connections, and every limit holds for every framing.
//   - header bytes and count bounded (431), body bytes bounded whether sized or chunked
//     (413 as soon as the limit is passed; the rest is never read);
//   - one deadline for a whole request (first byte to last) and one for an idle
//     keep-alive connection: slow or silent clients cost a socket, never a thread;
//   - at most max_connections open; the excess get 503 and are closed;
//   - pipelined requests are answered one at a time, in order;
//   - more than one Content-Length, or Content-Length with Transfer-Encoding: 400
//     (the framing a proxy in front might read differently).
// The handler runs on an I/O thread and answers through Respond, once, from any thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace axon::serve {

class AccessLog;

struct HttpLimits {
  int64_t max_body_bytes = 64 << 20;
  int64_t max_header_bytes = 16 << 10;  // request line and every header line together
  int64_t max_header_count = 100;
  std::chrono::milliseconds request_timeout{30'000};  // from a request's first byte to its last
  std::chrono::milliseconds idle_timeout{60'000};     // a keep-alive connection between requests
  int64_t max_connections = 4096;
};

struct HttpRequest {
  std::string method, target, body;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones (Allow, ...)
};

// Answers a request once, from any thread; `make` runs on the connection's I/O thread,
// so the work of writing a response body stays off the caller (a batcher's thread).
using Respond = std::function<void(std::function<HttpResponse()> make)>;
using HttpHandler = std::function<void(HttpRequest&& request, Respond respond)>;

class HttpServer {
 public:
  // `log` may be null (no access log); it must outlive the server.
  HttpServer(HttpLimits limits, int threads, HttpHandler handler, AccessLog* log);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (0: any free port) and returns the port; throws axon::Error.
  int listen(const std::string& host, int port);
  void start();  // the I/O threads begin accepting and serving
  void stop();   // closes the listener and every connection, joins the threads

  struct Impl;  // public so that the connections (in the .cpp) can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace axon::serve
