#include "train_guards.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "axon/model.h"

namespace axon::cli {

void check_finite(const Tensor& x, const std::string& what) {
  const int64_t n = x.numel(), per_row = x.rank() > 0 && x.dim(0) > 0 ? n / x.dim(0) : 1;
  int64_t bad = 0, first = -1;
  dispatch_any(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* p = x.data<T>();
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite(static_cast<double>(p[i]))) {
        if (first < 0) first = i;
        ++bad;
      }
  });
  if (bad > 0)
    fail(what, ": ", bad, " of ", n, " values are NaN or infinite (the first in row ", first / per_row + 1,
         "); training on them would give a NaN model");
}

void check_writable(const std::string& path, const std::string& option) {
  const std::filesystem::path target(path);
  const std::string folder = target.has_parent_path() ? target.parent_path().string() : ".";
  std::error_code error;
  if (std::filesystem::is_directory(target, error)) fail(option, " ", path, ": is a folder, expected a file path");
  if (!std::filesystem::is_directory(folder, error))
    fail(option, " ", path, ": the folder ", folder, " does not exist");
  std::string probe = (std::filesystem::path(folder) / ".axon-write-check-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) fail(option, " ", path, ": cannot write in the folder ", folder, ": ", std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

void StopOnNonFinite::on_batch_end(int64_t batch, const Logs& logs) {
  if (!logs.contains("loss") || std::isfinite(logs.at("loss"))) return;
  char text[160];
  std::snprintf(text, sizeof text, "training diverged: the loss is %g at epoch %d, batch %lld", logs.at("loss"),
                epoch_ + 1, static_cast<long long>(batch));
  message_ = text;
  model().stop_training = true;
}

namespace {

bool weights_finite(const Model& model) {
  for (const NamedParameter& p : model.named_parameters()) {
    const Tensor& value = p.variable.value();
    bool finite = true;
    dispatch(value.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T* v = value.data<T>();
      for (int64_t i = 0; i < value.numel() && finite; ++i) finite = std::isfinite(v[i]);
    });
    if (!finite) return false;
  }
  return true;
}

}  // namespace

void WhileFinite::on_train_begin(const Logs& logs) {
  inner_->set_context(&model(), params());
  inner_->on_train_begin(logs);
}

void WhileFinite::on_epoch_end(int epoch, const Logs& logs) {
  if (logs.contains("loss") && !std::isfinite(logs.at("loss"))) return;
  if (!weights_finite(model())) return;
  inner_->on_epoch_end(epoch, logs);
}

}  // namespace axon::cli
