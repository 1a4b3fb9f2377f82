#include "http_server.h"

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "access_log.h"
#include "axon/error.h"
#include "idle_work.h"

namespace axon::serve {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// {"error": message} as JSON: quotes and backslashes escaped, control bytes dropped.
std::string error_body(const std::string& message) {
  std::string escaped;
  for (const char c : message) {
    if (c == '"' || c == '\\') escaped += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) escaped += c;
  }
  return "{\"error\":\"" + escaped + "\"}";
}

}  // namespace

class Connection;

constexpr int kAcceptBurst = 256;  // connections taken per accept handler at most

struct HttpServer::Impl {
  HttpLimits limits;
  int threads;
  HttpHandler handler;
  AccessLog* log;
  // Before io: connections destroyed with the io_context still count themselves out.
  std::atomic<int64_t> connections{0};
  std::atomic<bool> stopped{false};
  net::io_context io;
  tcp::acceptor acceptor{io};
  net::steady_timer accept_retry{io};
  std::vector<std::thread> workers;
  std::mutex open_mutex;
  std::unordered_set<Connection*> open;  // for stop(): every connection alive

  void accept();
  void admit(tcp::socket socket);  // a connection accepted: served, or refused when over the limit
};

// One client connection: read a request, answer it, read the next, on one strand.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server), limits_(server.limits) {
    boost::system::error_code ec;
    const tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    client_ = ec ? "-" : peer.address().to_string() + ":" + std::to_string(peer.port());
    ++server_.connections;
    std::lock_guard lock(server_.open_mutex);
    server_.open.insert(this);
  }
  ~Connection() {
    --server_.connections;
    std::lock_guard lock(server_.open_mutex);
    server_.open.erase(this);
  }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->await_request(); });
  }

  // The server stops: a connection waiting for (or reading) a request closes now; one
  // whose request is being answered closes once the answer is written.
  void stop() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->answering_) self->close();
    });
  }

 private:
  // A keep-alive connection may sit idle up to idle_timeout before its next request;
  // from the first byte on, the whole request must arrive within request_timeout.
  void await_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser_->body_limit(static_cast<std::uint64_t>(limits_.max_body_bytes));
    if (buffer_.size() > 0) return read_header();  // pipelined: the next request is here already
    stream_.expires_after(limits_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return self->close();  // idle too long, or the client went away
      self->buffer_.commit(n);
      self->read_header();
    });
  }

  void read_header() {
    started_ = Clock::now();
    stream_.expires_after(limits_.request_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    run_overdue_idle_work();  // a flood of requests must not hold up a batch (idle_work.h)
    if (ec) return fail_read(ec);
    const auto& header = parser_->get();
    method_ = std::string(header.method_string());
    target_ = std::string(header.target());
    int64_t fields = 0, lengths = 0;
    for (const auto& field : header) {
      ++fields;
      if (field.name() == http::field::content_length) ++lengths;
    }
    if (fields > limits_.max_header_count)
      return refuse(431, "more than " + std::to_string(limits_.max_header_count) + " header fields");
    if (lengths > 1) return refuse(400, "more than one Content-Length header");
    if (lengths == 1 && header.count(http::field::transfer_encoding) > 0)
      return refuse(400, "both Content-Length and Transfer-Encoding");
    if (beast::iequals(header[http::field::expect], "100-continue")) {
      // Clients that ask wait for this before they send the body (curl, for 1 KiB and up).
      static const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
      return net::async_write(stream_, net::buffer(interim), [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->close();
        self->read_body();
      });
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_body(ec); });
  }

  void on_body(beast::error_code ec) {
    if (ec) return fail_read(ec);
    stream_.expires_never();  // the handler's time is the server's, not the client's
    keep_alive_ = parser_->get().keep_alive();
    answering_ = true;
    HttpRequest request{method_, target_, std::move(parser_->get().body())};
    // The handler may answer from another thread: the answer comes back to this strand.
    server_.handler(std::move(request), [self = shared_from_this()](std::function<HttpResponse()> make) {
      net::post(self->stream_.get_executor(), [self, make = std::move(make)] { self->write(make()); });
    });
  }

  // A request that cannot be read to its end: answer what can be said, then close,
  // since the rest of the stream cannot be framed.
  void fail_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset)
      return close();
    if (ec == http::error::header_limit)
      return refuse(431, "request header larger than " + std::to_string(limits_.max_header_bytes) + " bytes");
    if (ec == http::error::body_limit)
      return refuse(413, "request body larger than " + std::to_string(limits_.max_body_bytes) + " bytes");
    refuse(400, "malformed HTTP request: " + ec.message());
  }

  void refuse(int status, const std::string& message) {
    keep_alive_ = false;
    if (method_.empty()) method_ = "-";
    write(HttpResponse{status, error_body(message)});
  }

  void write(HttpResponse response) {
    auto message = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), 11);
    message->set(http::field::server, "axon");
    message->set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) message->set(name, value);
    message->body() = std::move(response.body);
    message->keep_alive(keep_alive_ && !server_.stopped);
    message->prepare_payload();
    status_ = response.status;
    stream_.expires_after(limits_.request_timeout);  // a client that does not read its answer
    http::async_write(stream_, *message, [self = shared_from_this(), message](beast::error_code ec, size_t) {
      self->answering_ = false;
      self->finished(message->body().size());
      if (ec || self->server_.stopped) return self->close();
      if (!self->keep_alive_) return self->linger_close();
      self->method_.clear();
      self->target_.clear();
      self->await_request();
    });
  }

  void finished(size_t bytes) {
    if (server_.log)
      server_.log->write(client_, method_, target_, status_, bytes,
                         std::chrono::duration<double>(Clock::now() - started_).count());
  }

  // Closing a socket with unread bytes resets the connection, and the reset can destroy
  // the response before the client reads it (a 413 for a body still being sent): stop
  // sending, then read and drop what still comes, for a little while.
  void linger_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(2));
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->close();
      self->drain();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  const HttpLimits& limits_;
  beast::flat_buffer buffer_;
  std::array<char, 4096> drain_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string client_, method_, target_;
  bool keep_alive_ = true, answering_ = false;
  int status_ = 0;
  Clock::time_point started_ = Clock::now();
};

void HttpServer::Impl::accept() {
  acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (stopped) return;
    if (ec) {
      // Out of descriptors (EMFILE) and friends: try again shortly instead of spinning.
      accept_retry.expires_after(std::chrono::milliseconds(50));
      accept_retry.async_wait([this](beast::error_code) {
        if (!stopped) accept();
      });
      return;
    }
    admit(std::move(socket));
    // The rest of a burst, now. One accept per turn of the event loop left a burst of
    // 1,000 clients waiting behind every ready request: up to 3.5 s for the last ones.
    // An error here (the queue is empty, or EMFILE) is left to the next async_accept.
    for (int taken = 1; taken < kAcceptBurst; ++taken) {
      tcp::socket next{net::make_strand(io)};
      acceptor.accept(next, ec);  // the acceptor is non-blocking: would_block when empty
      if (ec) break;
      admit(std::move(next));
    }
    accept();
  });
}

void HttpServer::Impl::admit(tcp::socket socket) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  if (connections >= limits.max_connections) {
    // Over the limit: say so (best effort, never blocking) and close.
    static const std::string body = error_body("too many open connections"),
                             busy =
                                 "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                 "Connection: close\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + body;
    socket.non_blocking(true, ec);
    socket.write_some(net::buffer(busy), ec);
    socket.close(ec);
  } else {
    std::make_shared<Connection>(std::move(socket), *this)->start();
  }
}

HttpServer::HttpServer(HttpLimits limits, int threads, HttpHandler handler, AccessLog* log)
    : impl_(new Impl{limits, threads, std::move(handler), log}) {}

HttpServer::~HttpServer() { stop(); }

int HttpServer::listen(const std::string& host, int port) {
  Impl& impl = *impl_;
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec) fail("serve: '", host, "' is not an IP address");
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  impl.acceptor.open(endpoint.protocol(), ec);
  // SO_REUSEADDR only (never SO_REUSEPORT, which would let a second server share a port in use).
  if (!ec) impl.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(endpoint, ec);
  if (!ec) impl.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (!ec) impl.acceptor.non_blocking(true, ec);  // accept() drains a burst (Impl::accept)
  if (ec) fail("serve: cannot listen on ", host, ":", port, " (", ec.message(), ")");
  return impl.acceptor.local_endpoint().port();
}

void HttpServer::start() {
  Impl& impl = *impl_;
  impl.accept();
  for (int i = 0; i < impl.threads; ++i)
    impl.workers.emplace_back([&impl] {
      for (;;) {  // io.run(), with this thread's idle work run whenever nothing is ready (idle_work.h)
        if (impl.io.poll() > 0 || run_idle_work()) continue;
        if (impl.io.run_one() == 0) break;  // stopped
      }
      run_idle_work();
    });
}

void HttpServer::stop() {
  Impl& impl = *impl_;
  if (impl.stopped.exchange(true)) return;
  net::post(impl.io, [&impl] {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    impl.accept_retry.cancel();
  });
  // Taken under the lock, stopped and let go outside it: the last reference to a
  // connection may drop here, and its destructor takes the lock.
  std::vector<std::shared_ptr<Connection>> alive;
  {
    std::lock_guard lock(impl.open_mutex);
    for (Connection* connection : impl.open)
      if (std::shared_ptr<Connection> held = connection->weak_from_this().lock()) alive.push_back(std::move(held));
  }
  for (const std::shared_ptr<Connection>& connection : alive) connection->stop();
  alive.clear();
  // Answers being written finish (a client that does not read gets 2 s); then whatever
  // is left is destroyed with the io_context.
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  while (impl.connections > 0 && Clock::now() < deadline && !impl.workers.empty())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl.io.stop();
  for (std::thread& worker : impl.workers) worker.join();
  beast::error_code ignored;
  impl.acceptor.close(ignored);  // if the posted close did not run before the stop
}

}  // namespace axon::serve
