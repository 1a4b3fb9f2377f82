#pragma once
// A server on a free loopback port serving "half": y = 0.5 * (x0 + x1) in each of 3
// outputs, so answers are easy to check by hand. Shared by the server tests.
#include <httplib.h>

#include <memory>

#include "axon/axon.h"
#include "axon/inference_server.h"

namespace axon::test_support {

inline std::shared_ptr<Model> halving_model() {
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

}  // namespace axon::test_support
