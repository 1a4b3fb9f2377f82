#include "axon/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <sstream>

#include "axon/metric.h"
#include "axon/model.h"
#include "axon/optimizers.h"
#include "axon/version.h"
#include "io/atomic_file.h"
#include "io/png.h"

namespace axon {

namespace {

using Clock = std::chrono::steady_clock;

std::string escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string number(double v, int digits = 4) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*g", digits, v);
  return text;
}

std::string fixed(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", v);
  return text;
}

struct Series {
  std::string name, color;
  std::vector<double> values;  // one per epoch (NaN: missing)
};

// A line chart: one polyline and one circle per epoch for each series, axes with the
// value range and the epochs.
std::string line_chart(const std::string& title, const std::vector<Series>& series, bool log_scale = false) {
  constexpr double kW = 520, kH = 260, kLeft = 64, kRight = 16, kTop = 28, kBottom = 36;
  double low = INFINITY, high = -INFINITY;
  size_t epochs = 0;
  for (const Series& s : series) {
    epochs = std::max(epochs, s.values.size());
    for (double v : s.values)
      if (std::isfinite(v) && (!log_scale || v > 0)) low = std::min(low, v), high = std::max(high, v);
  }
  if (!std::isfinite(low)) low = 0, high = 1;
  if (high - low < 1e-12) high = low + (low == 0 ? 1 : std::abs(low) * 0.1);
  const auto scaled = [&](double v) { return log_scale ? std::log10(v) : v; };
  const double lo = scaled(low), hi = scaled(high);
  const auto x = [&](size_t i) {
    return kLeft +
           (epochs > 1 ? static_cast<double>(i) / static_cast<double>(epochs - 1) : 0.5) * (kW - kLeft - kRight);
  };
  const auto y = [&](double v) { return kTop + (1 - (scaled(v) - lo) / (hi - lo)) * (kH - kTop - kBottom); };
  std::ostringstream svg;
  svg << "<svg class=\"chart\" data-title=\"" << escape(title) << "\" width=\"" << kW << "\" height=\"" << kH
      << "\" viewBox=\"0 0 " << kW << " " << kH << "\" xmlns=\"http://www.w3.org/2000/svg\">"
      << "<text x=\"" << kLeft << "\" y=\"18\" class=\"title\">" << escape(title) << "</text>"
      << "<line x1=\"" << kLeft << "\" y1=\"" << kH - kBottom << "\" x2=\"" << kW - kRight << "\" y2=\"" << kH - kBottom
      << "\" class=\"axis\"/><line x1=\"" << kLeft << "\" y1=\"" << kTop << "\" x2=\"" << kLeft << "\" y2=\""
      << kH - kBottom << "\" class=\"axis\"/>"
      << "<text x=\"" << kLeft - 6 << "\" y=\"" << kTop + 4 << "\" class=\"tick\" text-anchor=\"end\">" << number(high)
      << "</text><text x=\"" << kLeft - 6 << "\" y=\"" << kH - kBottom << "\" class=\"tick\" text-anchor=\"end\">"
      << number(low) << "</text>"
      << "<text x=\"" << kLeft << "\" y=\"" << kH - 12 << "\" class=\"tick\">epoch 1</text>"
      << "<text x=\"" << kW - kRight << "\" y=\"" << kH - 12 << "\" class=\"tick\" text-anchor=\"end\">epoch " << epochs
      << "</text>";
  double legend_x = kW - kRight - 130 * static_cast<double>(series.size());  // right-aligned, clear of the title
  for (const Series& s : series) {
    std::ostringstream points;
    std::ostringstream dots;
    for (size_t i = 0; i < s.values.size(); ++i) {
      const double v = s.values[i];
      if (!std::isfinite(v) || (log_scale && v <= 0)) continue;
      points << number(x(i), 6) << "," << number(y(v), 6) << " ";
      dots << "<circle class=\"point\" data-series=\"" << escape(s.name) << "\" data-epoch=\"" << i + 1
           << "\" data-value=\"" << number(v, 8) << "\" cx=\"" << number(x(i), 6) << "\" cy=\"" << number(y(v), 6)
           << "\" r=\"3\" fill=\"" << s.color << "\"><title>" << escape(s.name) << ", epoch " << i + 1 << ": "
           << number(v, 6) << "</title></circle>";
    }
    svg << "<polyline class=\"curve\" data-series=\"" << escape(s.name) << "\" fill=\"none\" stroke=\"" << s.color
        << "\" stroke-width=\"2\" points=\"" << points.str() << "\"/>" << dots.str() << "<text x=\"" << legend_x
        << "\" y=\"18\" class=\"legend\" fill=\"" << s.color << "\">&#9632; " << escape(s.name) << "</text>";
    legend_x += 130;
  }
  svg << "</svg>";
  return svg.str();
}

// Logs keys without their "val_" twins, in first-seen order: one chart each.
std::vector<std::string> chart_keys(const std::vector<Logs>& logs) {
  std::vector<std::string> keys;
  for (const Logs& l : logs)
    for (const auto& [key, value] : l.items())
      if (!key.starts_with("val_") && std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  return keys;
}

double value_or_nan(const Logs& logs, const std::string& key) { return logs.contains(key) ? logs.at(key) : NAN; }

const char* kStyle = R"(
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1120px; color: #1d2330; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #dde; }
.meta { color: #5a6275; } pre { background: #f4f5f8; padding: 10px; overflow-x: auto; font-size: 12.5px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } .chart { background: #fbfbfd; border: 1px solid #e4e6ee; }
.chart .title { font-weight: 600; font-size: 13px; } .chart .tick { font-size: 11px; fill: #5a6275; }
.chart .legend { font-size: 12px; } .axis { stroke: #9aa1b2; stroke-width: 1; }
table { border-collapse: collapse; } td, th { padding: 3px 10px; text-align: right; border-bottom: 1px solid #eceef4; }
th { background: #f4f5f8; } .heatmap text { font-size: 11px; } .examples { display: flex; flex-wrap: wrap; gap: 10px; }
.example { text-align: center; font-size: 12px; } .example img { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #ccd; }
)";

}  // namespace

HtmlReport::HtmlReport(std::string path, HtmlReportOptions options)
    : path_(std::move(path)), options_(std::move(options)) {
  if (path_.empty()) fail("HtmlReport: empty path");
  if (options_.evaluation_data &&
      (!options_.evaluation_data->first.defined() || !options_.evaluation_data->second.defined() ||
       options_.evaluation_data->first.dim(0) != options_.evaluation_data->second.dim(0)))
    fail("HtmlReport: evaluation_data needs x and y of the same number of examples");
}

void HtmlReport::on_train_begin(const Logs&) {
  std::ostringstream summary;
  model().summary(summary);
  summary_ = summary.str();
  epochs_.clear();
  write(false);  // the file exists (and says "training") from the start
}

void HtmlReport::on_epoch_begin(int, const Logs&) { epoch_start_ = Clock::now(); }

void HtmlReport::on_epoch_end(int epoch, const Logs& logs) {
  const double seconds = std::chrono::duration<double>(Clock::now() - epoch_start_).count();
  epochs_.push_back({epoch + 1, logs, seconds, model().optimizer().learning_rate()});
  write(false);
}

void HtmlReport::on_train_end(const Logs&) { write(true); }

std::string HtmlReport::evaluation_section() const {
  if (!options_.evaluation_data) return "";
  const auto& [x, y] = *options_.evaluation_data;
  const Tensor scores = model().predict(x, 256);
  if (scores.rank() != 2 || scores.dim(1) < 2)
    return "<p>The model is not a classifier of several classes: no confusion matrix.</p>";
  const int64_t classes = scores.dim(1);
  ConfusionMatrix matrix(classes);
  matrix.update(scores, y);
  const auto name = [&](int64_t c) {
    return c < static_cast<int64_t>(options_.class_names.size()) ? options_.class_names[static_cast<size_t>(c)]
                                                                 : std::to_string(c);
  };
  std::ostringstream html;
  html << "<h2>Evaluation (" << matrix.total() << " examples)</h2>";
  // The heat map: rows are true classes, columns predicted; shade by the row's share.
  // Rows: true class (labels on the left); columns: predicted (labels slanted on top).
  constexpr int kCell = 34, kLeftLabels = 110, kTopLabels = 70;
  const int cells = kCell * static_cast<int>(classes);
  html << "<p class=\"meta\">Rows: the true class; columns: the predicted class.</p><svg class=\"heatmap\" width=\""
       << kLeftLabels + cells + 60 << "\" height=\"" << kTopLabels + cells + 10
       << "\" xmlns=\"http://www.w3.org/2000/svg\">";
  for (int64_t t = 0; t < classes; ++t) {
    int64_t row_total = 0;
    for (int64_t p = 0; p < classes; ++p) row_total += matrix.count(t, p);
    html << "<text x=\"" << kLeftLabels - 6 << "\" y=\"" << kTopLabels + kCell * t + kCell / 2 + 4
         << "\" text-anchor=\"end\">" << escape(name(t)) << "</text>";
    html << "<text transform=\"translate(" << kLeftLabels + kCell * t + kCell / 2 + 4 << "," << kTopLabels - 6
         << ") rotate(-45)\">" << escape(name(t)) << "</text>";
    for (int64_t p = 0; p < classes; ++p) {
      const int64_t n = matrix.count(t, p);
      const double share = row_total ? static_cast<double>(n) / static_cast<double>(row_total) : 0;
      const int shade = static_cast<int>(255 - share * 200);
      html << "<rect class=\"cell\" data-true=\"" << t << "\" data-predicted=\"" << p << "\" data-count=\"" << n
           << "\" x=\"" << kLeftLabels + kCell * p << "\" y=\"" << kTopLabels + kCell * t << "\" width=\"" << kCell
           << "\" height=\"" << kCell << "\" fill=\"rgb(" << shade << "," << shade
           << ",255)\" stroke=\"#fff\"><title>true " << escape(name(t)) << ", predicted " << escape(name(p)) << ": "
           << n << "</title></rect>"
           << "<text x=\"" << kLeftLabels + kCell * p + kCell / 2 << "\" y=\"" << kTopLabels + kCell * t + kCell / 2 + 4
           << "\" text-anchor=\"middle\" fill=\"" << (share > 0.5 ? "#fff" : "#1d2330") << "\">" << n << "</text>";
    }
  }
  html << "</svg>";
  // Precision, recall, F1 per class.
  html << "<table "
          "class=\"per-class\"><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>";
  for (int64_t c = 0; c < classes; ++c) {
    int64_t predicted = 0, actual = 0;
    for (int64_t k = 0; k < classes; ++k) predicted += matrix.count(k, c), actual += matrix.count(c, k);
    const double tp = static_cast<double>(matrix.count(c, c));
    const double precision = predicted ? tp / static_cast<double>(predicted) : 0,
                 recall = actual ? tp / static_cast<double>(actual) : 0,
                 f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
    html << "<tr><td>" << escape(name(c)) << "</td><td>" << number(precision) << "</td><td>" << number(recall)
         << "</td><td>" << number(f1) << "</td><td>" << actual << "</td></tr>";
  }
  html << "</table>";
  // The first misclassified examples; drawn when an example is a square image.
  const int64_t per_example = x.numel() / std::max<int64_t>(x.dim(0), 1);
  const auto side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(per_example))));
  const bool image = side * side == per_example && side >= 4;
  const std::vector<double> labels = y.to_vector();
  const Tensor pixels = x.dtype() == DType::f32 ? x : x.to(DType::f32);
  html << "<h2>Misclassified examples</h2><div class=\"examples\">";
  int shown = 0;
  for (int64_t i = 0; i < scores.dim(0) && shown < options_.max_examples; ++i) {
    const float* row = scores.data<float>() + i * classes;
    const int64_t predicted = std::max_element(row, row + classes) - row;
    // The true class: an index ((n,) or (n, 1) labels) or the argmax of a one-hot row.
    const auto per_row = static_cast<int64_t>(labels.size()) / scores.dim(0);
    const double* label_row = labels.data() + i * per_row;
    const int64_t truth = per_row == 1 ? static_cast<int64_t>(label_row[0])
                                       : std::max_element(label_row, label_row + per_row) - label_row;
    if (predicted == truth) continue;
    ++shown;
    html << "<div class=\"example\" data-index=\"" << i << "\">";
    if (image) {
      const float* p = pixels.data<float>() + i * per_example;
      const std::vector<float> values(p, p + per_example);
      const float high = *std::max_element(values.begin(), values.end());
      std::vector<float> unit = values;
      if (high > 1.0f)
        for (float& v : unit) v /= high;
      html << "<img alt=\"example " << i << "\" src=\"data:image/png;base64,"
           << io::base64(io::grayscale_png(unit, side, side)) << "\"><br>";
    } else {
      html << "#" << i << "<br>";
    }
    html << "true " << escape(name(truth)) << "<br>predicted " << escape(name(predicted)) << "</div>";
  }
  if (shown == 0) html << "<p>None.</p>";
  html << "</div>";
  return html.str();
}

void HtmlReport::write(bool final_report) const {
  std::vector<Logs> logs;
  for (const Epoch& e : epochs_) logs.push_back(e.logs);
  const std::vector<std::string> keys = chart_keys(logs);
  std::ostringstream html;
  html << "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">";
  if (!final_report) html << "<meta http-equiv=\"refresh\" content=\"5\">";  // live while training
  html << "<title>" << escape(options_.title) << "</title><style>" << kStyle << "</style></head><body>";
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  html << "<h1>" << escape(options_.title) << "</h1><p class=\"meta\" id=\"status\">"
       << (final_report ? "Finished" : "Training") << ": " << epochs_.size() << " of "
       << params().epochs - params().initial_epoch << " epochs; " << params().samples << " samples per epoch in "
       << params().steps << " steps of " << params().batch_size << " - written " << stamp << " by axon " << version()
       << "</p>";
  if (!options_.command.empty()) html << "<pre class=\"command\">" << escape(options_.command) << "</pre>";

  html << "<h2>Curves</h2><div class=\"charts\">";
  const char* colors[] = {"#2f6fdf", "#e0542e"};
  for (const std::string& key : keys) {
    Series train{key, colors[0], {}}, validation{"val_" + key, colors[1], {}};
    for (const Logs& l : logs) train.values.push_back(value_or_nan(l, key));
    for (const Logs& l : logs) validation.values.push_back(value_or_nan(l, "val_" + key));
    std::vector<Series> series{train};
    if (std::any_of(validation.values.begin(), validation.values.end(), [](double v) { return std::isfinite(v); }))
      series.push_back(validation);
    html << line_chart(key, series);
  }
  Series rate{"learning_rate", "#3a9a5b", {}};
  for (const Epoch& e : epochs_) rate.values.push_back(e.learning_rate);
  html << line_chart("learning rate (end of epoch)", {rate}) << "</div>";

  html << "<h2>Time</h2><table class=\"timing\"><tr><th>epoch</th><th>seconds</th><th>samples/s</th>";
  for (const std::string& key : keys) html << "<th>" << escape(key) << "</th>";
  html << "</tr>";
  for (const Epoch& e : epochs_) {
    html << "<tr><td>" << e.number << "</td><td>" << number(e.seconds) << "</td><td>"
         << fixed(static_cast<double>(params().samples) / std::max(e.seconds, 1e-9)) << "</td>";
    for (const std::string& key : keys) html << "<td>" << number(value_or_nan(e.logs, key)) << "</td>";
    html << "</tr>";
  }
  html << "</table><h2>Model</h2><pre class=\"summary\">" << escape(summary_) << "</pre>";
  if (final_report) html << evaluation_section();
  html << "</body></html>\n";
  write_file_atomically(path_, html.str());
}

}  // namespace axon
