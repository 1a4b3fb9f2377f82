// CSV reader: a table of numbers, one column of which is the label.
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

#include "axon/readers.h"

namespace axon {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("read_csv: cannot open ", path, ": ", std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) fail("read_csv: error reading ", path);
  return content.str();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits one line into trimmed cells; a cell may be double-quoted ("" is a quote inside).
// Quoted cells cannot span lines.
void split_line(const std::string& path, int64_t row, std::string_view line, char delimiter,
                std::vector<std::string>& cells) {
  cells.clear();
  size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t') && line[i] != delimiter) ++i;
    std::string cell;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) fail("read_csv: ", path, ": row ", row, ": a quoted cell is not closed on its line");
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cell += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cell += line[i++];
      }
      const size_t next = line.find(delimiter, i);
      const std::string_view rest = line.substr(i, next == std::string_view::npos ? std::string_view::npos : next - i);
      if (!trim(rest).empty()) fail("read_csv: ", path, ": row ", row, ": text after the closing quote of a cell");
      i = next;
    } else {
      const size_t next = line.find(delimiter, i);
      cell = trim(line.substr(i, next == std::string_view::npos ? std::string_view::npos : next - i));
      i = next;
    }
    cells.push_back(std::move(cell));
    if (i == std::string_view::npos) return;
    ++i;  // past the delimiter
  }
}

// Calls visit(row, line) for each non-blank line; row counts every line from 1.
template <class Visit>
void for_each_line(std::string_view text, Visit&& visit) {
  int64_t row = 0;
  while (!text.empty()) {
    ++row;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) visit(row, line);
  }
}

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// The index of the label column among `names`.
size_t label_index(const std::string& path, const CsvOptions& options, const std::vector<std::string>& names) {
  const std::string& wanted = options.label_column;
  if (wanted.empty()) return names.size() - 1;
  if (options.header)
    for (size_t c = 0; c < names.size(); ++c)
      if (names[c] == wanted) return c;
  if (all_digits(wanted) && wanted.size() < 10) {
    const size_t index = std::stoul(wanted);
    if (index >= names.size())
      fail("read_csv: ", path, ": label column ", index, " is out of range for ", names.size(), " columns");
    return index;
  }
  std::string listing;
  for (size_t c = 0; c < names.size(); ++c) listing += (c ? ", '" : "'") + names[c] + "'";
  fail("read_csv: ", path, ": no label column '", wanted, "'; the columns are ", listing,
       options.header ? " (or give a 0-based index)" : " (without a header, give a 0-based index)");
}

}  // namespace

CsvData read_csv(const std::string& path, const CsvOptions& options) {
  if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r')
    fail("read_csv: the delimiter cannot be a quote or a line break");
  const std::string content = read_file(path);
  std::string_view text = content;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 byte-order mark

  std::vector<std::string> names, cells;
  std::string names_from;  // for ragged-row messages: "the header" or "row 1"
  size_t label = 0, columns = 0;
  std::vector<float> x_values, y_values;
  int64_t rows = 0;

  auto column_name = [&](size_t c) { return options.header ? "'" + names[c] + "'" : std::to_string(c); };
  for_each_line(text, [&](int64_t row, std::string_view line) {
    split_line(path, row, line, options.delimiter, cells);
    if (names.empty()) {  // the first line fixes the columns
      columns = cells.size();
      if (columns < 2)
        fail("read_csv: ", path, ": row ", row, " has ", columns,
             " column; at least one feature and a label are needed");
      if (options.header) {
        names = cells;
        names_from = "the header";
      } else {
        for (size_t c = 0; c < columns; ++c) names.push_back(std::to_string(c));
        names_from = "row " + std::to_string(row);
      }
      label = label_index(path, options, names);
      if (options.header) return;
    }
    if (cells.size() != columns)
      fail("read_csv: ", path, ": row ", row, " has ", cells.size(), " columns, expected ", columns, " as ",
           names_from);
    for (size_t c = 0; c < columns; ++c) {
      const std::string& cell = cells[c];
      if (cell.empty()) fail("read_csv: ", path, ": row ", row, ", column ", column_name(c), ": the cell is empty");
      const char* begin = cell.data();
      const char* end = begin + cell.size();
      if (*begin == '+' && cell.size() > 1 && cell[1] != '-' && cell[1] != '+') ++begin;
      double value = 0;
      const auto [stop, error] = std::from_chars(begin, end, value);
      const float as_float = static_cast<float>(value);
      if (error != std::errc{} || stop != end || !std::isfinite(as_float))
        fail("read_csv: ", path, ": row ", row, ", column ", column_name(c), ": '", cell, "' is not a ",
             error == std::errc{} && stop == end ? "finite float32 number" : "number");
      (c == label ? y_values : x_values).push_back(as_float);
    }
    ++rows;
  });
  if (names.empty()) fail("read_csv: ", path, " is empty");
  if (rows == 0) fail("read_csv: ", path, " has no data rows");

  CsvData data;
  const int64_t features = static_cast<int64_t>(columns) - 1;
  data.x = Tensor::from(x_values, Shape{rows, features});
  data.y = Tensor::from(y_values, Shape{rows});
  for (size_t c = 0; c < columns; ++c)
    if (c != label) data.feature_names.push_back(names[c]);
  return data;
}

}  // namespace axon
