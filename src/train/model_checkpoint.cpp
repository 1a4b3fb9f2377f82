#include <limits>

#include "axon/callbacks.h"
#include "axon/checkpoint.h"
#include "axon/model_file.h"
#include "monitor.h"

namespace axon {

ModelCheckpoint::ModelCheckpoint(std::string path, Options options)
    : path_(std::move(path)), options_(std::move(options)) {
  if (path_.empty()) fail("ModelCheckpoint: path is empty");
  maximize_ = maximizes(options_.monitor, options_.mode);
}

void ModelCheckpoint::on_train_begin(const Logs&) {
  best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
}

void ModelCheckpoint::on_epoch_end(int epoch, const Logs& logs) {
  if (options_.save_best_only) {
    if (!logs.contains(options_.monitor))
      fail("ModelCheckpoint: monitored value '", options_.monitor, "' is not in the logs (", logs.str(), ")");
    const double value = logs.at(options_.monitor);
    if (!improves(value, best_, 0.0, maximize_)) return;
    best_ = value;
  }
  std::string path = path_;
  if (const size_t at = path.find("{epoch}"); at != std::string::npos) path.replace(at, 7, std::to_string(epoch + 1));
  if (options_.save_weights_only)
    save_weights(model(), path);
  else
    save_checkpoint(model(), path, epoch + 1);
}

}  // namespace axon
