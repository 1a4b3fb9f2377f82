#include <unistd.h>

#include <cmath>
#include <string>

#include "axon/callbacks.h"

namespace axon {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string format_duration(double seconds) {
  char text[32];
  if (seconds >= 3600)
    std::snprintf(text, sizeof text, "%d:%02d:%02d", int(seconds / 3600), int(seconds / 60) % 60, int(seconds) % 60);
  else if (seconds >= 60)
    std::snprintf(text, sizeof text, "%d:%02d", int(seconds / 60), int(seconds) % 60);
  else
    std::snprintf(text, sizeof text, "%.0fs", seconds);
  return text;
}

std::string format_step_time(double seconds) {
  char text[32];
  if (seconds >= 1)
    std::snprintf(text, sizeof text, "%.1fs/step", seconds);
  else if (seconds >= 1e-3)
    std::snprintf(text, sizeof text, "%.0fms/step", seconds * 1e3);
  else
    std::snprintf(text, sizeof text, "%.0fus/step", seconds * 1e6);
  return text;
}

}  // namespace

ProgressBar::ProgressBar(std::FILE* out, double line_seconds) : out_(out), line_seconds_(line_seconds) {}

void ProgressBar::on_train_begin(const Logs&) { live_ = params().verbose == 1 && isatty(fileno(out_)); }

void ProgressBar::on_epoch_begin(int epoch, const Logs&) {
  epoch_ = epoch;
  epoch_start_ = last_draw_ = Clock::now();
  if (live_) std::fprintf(out_, "Epoch %d/%d\n", epoch + 1, params().epochs);
}

void ProgressBar::on_batch_end(int64_t batch, const Logs& logs) {
  if (!live_) {
    // Off a terminal: a line now and then, so a long epoch is not silent.
    if (params().verbose != 1 || batch + 1 >= params().steps || seconds_since(last_draw_) < line_seconds_) return;
    last_draw_ = Clock::now();
    const int64_t samples = std::min((batch + 1) * params().batch_size, params().samples);
    std::fprintf(out_, "Epoch %d/%d - %lld/%lld steps - %lld samples - %.0f samples/s - %s\n", epoch_ + 1,
                 params().epochs, static_cast<long long>(batch + 1), static_cast<long long>(params().steps),
                 static_cast<long long>(samples),
                 static_cast<double>(samples) / std::max(seconds_since(epoch_start_), 1e-9), logs.str().c_str());
    std::fflush(out_);
    return;
  }
  // Redraw at most 10 times a second: a terminal is slower than a training step.
  if (seconds_since(last_draw_) < 0.1 && batch + 1 < params().steps) return;
  last_draw_ = Clock::now();
  draw(batch + 1, logs, false);
}

void ProgressBar::on_epoch_end(int epoch, const Logs& logs) {
  if (live_) {
    draw(params().steps, logs, true);
    return;
  }
  const double elapsed = seconds_since(epoch_start_);
  std::fprintf(out_, "Epoch %d/%d - %lld steps - %s %s - %s\n", epoch + 1, params().epochs,
               static_cast<long long>(params().steps), format_duration(elapsed).c_str(),
               format_step_time(elapsed / static_cast<double>(std::max<int64_t>(params().steps, 1))).c_str(),
               logs.str().c_str());
  std::fflush(out_);
}

// "120/469 [=======>......................] - ETA: 3s - 24310 samples/s - loss: 0.4512 - accuracy: 0.8400"
void ProgressBar::draw(int64_t step, const Logs& logs, bool final_line) {
  constexpr int kWidth = 30;
  const int64_t steps = std::max<int64_t>(params().steps, 1);
  const int filled = static_cast<int>(kWidth * std::min(step, steps) / steps);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += (step > 0 ? ">" : ".") + std::string(static_cast<size_t>(kWidth - filled - 1), '.');
  const double elapsed = seconds_since(epoch_start_);
  const double per_step = elapsed / static_cast<double>(std::max<int64_t>(step, 1));
  const std::string timing = final_line ? format_duration(elapsed) + " " + format_step_time(per_step)
                                        : "ETA: " + format_duration(per_step * static_cast<double>(steps - step));
  const int digits = static_cast<int>(std::to_string(steps).size());
  const double samples = static_cast<double>(std::min(step * params().batch_size, params().samples));
  std::fprintf(out_, "\r%*lld/%lld [%s] - %s - %.0f samples/s - %s\033[K%s", digits, static_cast<long long>(step),
               static_cast<long long>(steps), bar.c_str(), timing.c_str(), samples / std::max(elapsed, 1e-9),
               logs.str().c_str(), final_line ? "\n" : "");
  std::fflush(out_);
}

}  // namespace axon
