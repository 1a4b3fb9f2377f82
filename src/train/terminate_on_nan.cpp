#include <cmath>
#include <cstdio>

#include "axon/callbacks.h"
#include "axon/model.h"

namespace axon {

void TerminateOnNaN::on_batch_end(int64_t batch, const Logs& logs) {
  if (!logs.contains("loss") || std::isfinite(logs.at("loss"))) return;
  std::fprintf(stderr, "TerminateOnNaN: batch %lld: invalid loss %g, terminating training\n",
               static_cast<long long>(batch), logs.at("loss"));
  model().stop_training = true;
}

}  // namespace axon
