// Model::summary: Keras's table of layers, output shapes, parameter counts and, for
// graphs, what each call reads.
#include <algorithm>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <typeinfo>

#include "axon/model.h"
#include "axon/registry.h"

namespace axon {

namespace {

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::string Model::shape_text(const std::vector<Shape>& shapes) {
  if (shapes.empty()) return "?";
  std::string text;
  for (const Shape& shape : shapes) {
    text += text.empty() ? "(None" : ", (None";
    for (int64_t d : shape.dims()) text += ", " + std::to_string(d);
    text += ")";
  }
  return shapes.size() > 1 ? "[" + text + "]" : text;
}

void Model::summary_rows(std::vector<SummaryRow>& rows) const {
  for (const auto& [path, child] : children())
    rows.push_back({(child->name().empty() ? path : child->name()) + " (" + child->type_name() + ")",
                    shape_text(child->output_shapes()), child->parameter_count(), ""});
}

void Model::summary(std::ostream& out) const {
  if (!built()) fail("summary: the model is not built yet; call build(input_shape) or fit() first");
  std::vector<SummaryRow> rows;
  summary_rows(rows);
  bool graph = false;
  for (const SummaryRow& row : rows) graph = graph || !row.connected_to.empty();
  // Columns as Keras's, widened to fit a long layer name or shape.
  size_t layer_column = 34, shape_column = 24;
  for (const SummaryRow& row : rows) {
    layer_column = std::max(layer_column, row.layer.size() + 1);
    shape_column = std::max(shape_column, row.output_shape.size() + 1);
  }
  const int width = static_cast<int>(layer_column + shape_column) + (graph ? 40 : 14);
  const std::string rule(static_cast<size_t>(width), '='), thin(static_cast<size_t>(width), '_');
  std::string title = name().empty() ? type_name() : name();
  if (title == "Model") {  // a subclass: its class name, as Keras
    title = demangle(typeid(*this).name());
    title = title.substr(title.rfind("::") == std::string::npos ? 0 : title.rfind("::") + 2);
  }
  out << "Model: \"" << title << "\"\n"
      << thin << "\n"
      << std::left << std::setw(static_cast<int>(layer_column)) << "Layer (type)"
      << std::setw(static_cast<int>(shape_column)) << "Output Shape" << std::setw(graph ? 14 : 0)
      << "Param #" << (graph ? "Connected to" : "") << "\n"
      << rule << "\n";
  for (const SummaryRow& row : rows)
    out << std::setw(static_cast<int>(layer_column)) << row.layer << std::setw(static_cast<int>(shape_column))
        << row.output_shape << std::setw(graph ? 14 : 0)
        << with_commas(row.parameters) << row.connected_to << "\n";
  const int64_t total = parameter_count(), trainable = trainable_parameter_count();
  out << rule << "\nTotal params: " << with_commas(total) << "\nTrainable params: " << with_commas(trainable)
      << "\nNon-trainable params: " << with_commas(total - trainable) << "\n"
      << thin << "\n";
}

std::string Model::summary() const {
  std::ostringstream out;
  summary(out);
  return out.str();
}

}  // namespace axon
