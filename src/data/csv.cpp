// CSV reader: a table of numbers, one column of which is the label.
#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>

#include "axon/readers.h"
#include "axon/regular_file.h"

namespace axon {

namespace {

// Reads a file line by line through a fixed-size block, so memory follows the longest
// line (bounded), not the file. Lines lose their '\n' and a '\r' before it.
class LineReader {
 public:
  LineReader(RegularFile& file, size_t max_line) : file_(file), max_line_(max_line), block_(64 * 1024) {}

  // The next line and its 1-based number; false at the end of the file.
  bool next(std::string_view& line, int64_t& row) {
    line_.clear();
    while (true) {
      if (pos_ == end_) {
        pos_ = 0;
        end_ = file_.read(block_.data(), block_.size());
        if (end_ == 0) {
          if (line_.empty() && !open_line_) return false;
          open_line_ = false;
          break;
        }
      }
      const char* begin = block_.data() + pos_;
      const auto* newline = static_cast<const char*>(std::memchr(begin, '\n', end_ - pos_));
      const size_t take = newline ? static_cast<size_t>(newline - begin) : end_ - pos_;
      if (line_.size() + take > max_line_)
        fail(file_.name(), ": row ", row_ + 1, " is longer than the limit of ", max_line_, " bytes");
      line_.append(begin, take);
      pos_ += take + (newline ? 1 : 0);
      open_line_ = !newline;
      if (newline) break;
    }
    row = ++row_;
    line = line_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return true;
  }

 private:
  RegularFile& file_;
  size_t max_line_;
  std::vector<char> block_;
  size_t pos_ = 0, end_ = 0;
  std::string line_;
  int64_t row_ = 0;
  bool open_line_ = false;  // bytes of an unfinished line were read
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A cell as it stands in the line: a view of its trimmed text or, for a double-quoted
// cell, of the text between the quotes with "" still doubled (see unquote).
struct Cell {
  std::string_view text;
  bool quoted = false;
};

std::string unquote(const Cell& cell) {
  std::string out(cell.text);
  if (!cell.quoted) return out;
  for (size_t at = out.find("\"\""); at != std::string::npos; at = out.find("\"\"", at + 1)) out.erase(at, 1);
  return out;
}

// Splits one line into trimmed cells, views into `line` (no copies); a cell may be
// double-quoted ("" is a quote inside). Quoted cells cannot span lines.
void split_line(const std::string& path, int64_t row, std::string_view line, char delimiter, std::vector<Cell>& cells) {
  cells.clear();
  size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t') && line[i] != delimiter) ++i;
    Cell cell;
    if (i < line.size() && line[i] == '"') {
      const size_t begin = ++i;
      while (true) {
        if (i >= line.size()) fail("read_csv: ", path, ": row ", row, ": a quoted cell is not closed on its line");
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            i += 2;
            continue;
          }
          break;
        }
        ++i;
      }
      cell = {line.substr(begin, i - begin), true};
      ++i;  // past the closing quote
      const size_t next = line.find(delimiter, i);
      const std::string_view rest = line.substr(i, next == std::string_view::npos ? std::string_view::npos : next - i);
      if (!trim(rest).empty()) fail("read_csv: ", path, ": row ", row, ": text after the closing quote of a cell");
      i = next;
    } else {
      const size_t next = line.find(delimiter, i);
      cell.text = trim(line.substr(i, next == std::string_view::npos ? std::string_view::npos : next - i));
      i = next;
    }
    cells.push_back(cell);
    if (i == std::string_view::npos) return;
    ++i;  // past the delimiter
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
  // Regular files only, within the size limit; then streamed: each cell is parsed to a
  // float as its line is read, so memory is the values (4 bytes per cell) plus a line.
  RegularFile file(path, "read_csv", options.max_bytes);
  LineReader lines(file, options.max_line_bytes);

  std::vector<std::string> names;
  std::vector<Cell> cells;
  std::string names_from;  // for ragged-row messages: "the header" or "row 1"
  size_t label = 0, columns = 0;
  std::vector<float> x_values, y_values;
  int64_t rows = 0;

  auto column_name = [&](size_t c) { return options.header ? "'" + names[c] + "'" : std::to_string(c); };
  std::string_view line;
  int64_t row = 0;
  while (lines.next(line, row)) {
    if (row == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // UTF-8 byte-order mark
    if (line.empty()) continue;
    split_line(path, row, line, options.delimiter, cells);
    if (names.empty()) {  // the first line fixes the columns
      columns = cells.size();
      if (columns < 2)
        fail("read_csv: ", path, ": row ", row, " has ", columns,
             " column; at least one feature and a label are needed");
      if (options.header) {
        for (const Cell& cell : cells) names.push_back(unquote(cell));
        names_from = "the header";
      } else {
        for (size_t c = 0; c < columns; ++c) names.push_back(std::to_string(c));
        names_from = "row " + std::to_string(row);
      }
      label = label_index(path, options, names);
      if (options.header) continue;
    }
    if (cells.size() != columns)
      fail("read_csv: ", path, ": row ", row, " has ", cells.size(), " columns, expected ", columns, " as ",
           names_from);
    for (size_t c = 0; c < columns; ++c) {
      const std::string_view cell = cells[c].text;
      if (cell.empty()) fail("read_csv: ", path, ": row ", row, ", column ", column_name(c), ": the cell is empty");
      const char* begin = cell.data();
      const char* end = begin + cell.size();
      if (*begin == '+' && cell.size() > 1 && cell[1] != '-' && cell[1] != '+') ++begin;
      double value = 0;
      const auto [stop, error] = std::from_chars(begin, end, value);
      const float as_float = static_cast<float>(value);
      if (error != std::errc{} || stop != end || !std::isfinite(as_float))
        fail("read_csv: ", path, ": row ", row, ", column ", column_name(c), ": '", unquote(cells[c]), "' is not a ",
             error == std::errc{} && stop == end ? "finite float32 number" : "number");
      (c == label ? y_values : x_values).push_back(as_float);
    }
    ++rows;
  }
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
