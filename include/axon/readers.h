#pragma once
// Readers for the data formats datasets ship in: IDX (MNIST-style, plain or gzipped),
// CSV (a table of numbers with one label column) and NumPy's .npy. Every reader
// validates the whole file and answers a bad one with an Error naming the path, never
// a crash or an allocation larger than the file's data justifies.
#include <string>
#include <vector>

#include "axon/tensor.h"

namespace axon {

// IDX file (types ubyte, byte, short, int, float, double; big-endian), plain or gzip
// (detected by its magic bytes 1f 8b) -> float32 tensor of the IDX shape, e.g.
// (60000, 28, 28), holding the raw values (not scaled).
Tensor read_idx(const std::string& path);

struct CsvOptions {
  bool header = true;        // the first line names the columns
  std::string label_column;  // its name (with a header) or 0-based index as a string; empty = the last column
  char delimiter = ',';
  // Limits against hostile files: larger files and longer lines are refused.
  uint64_t max_bytes = uint64_t{1} << 30;   // 1 GiB
  size_t max_line_bytes = size_t{1} << 20;  // 1 MiB (a 784-pixel row is about 3 KB)
};

struct CsvData {
  Tensor x;                                // (rows, features) float32: every column but the label
  Tensor y;                                // (rows,) float32: the label column
  std::vector<std::string> feature_names;  // the header's names of x's columns, else "0", "1", ...
};

// Every cell must be a finite number. Row numbers in errors are 1-based lines of the
// file, header included, as a spreadsheet shows them:
//   "read_csv: data.csv: row 17, column 'age': 'abc' is not a number"
// Accepts \n and \r\n line endings, a trailing newline, blank lines (skipped), a UTF-8
// byte-order mark and double-quoted cells. Regular files only (not a pipe or a device),
// at most options.max_bytes, lines of at most options.max_line_bytes; the file is
// streamed and each cell parsed as it is read, so memory is about 4 bytes per cell.
CsvData read_csv(const std::string& path, const CsvOptions& options = {});

// NPY v1/v2/v3, C order, dtypes <f4 <f8 |u1 <i4 <i8 (also |i1 |b1). <f8, <i4 and <i8
// keep their type (float64, int32, int64: labels and token ids stay exact); |u1, |i1
// and |b1 become float32.
Tensor read_npy(const std::string& path);

// Writes a tensor (<f4, <f8, <i4 or <i8) as NPY v1.0, header padded to a multiple
// of 64 bytes. Atomic: a temp file in the same folder is written, fsynced and renamed
// over `path`, then the folder is fsynced; a crash leaves the old file or the new one.
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace axon
