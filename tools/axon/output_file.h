#pragma once
// Writing the CLI's outputs with every error checked: write, flush, fsync (for a
// regular file) and close. A full disk or /dev/full is an Error, never exit 0 with a
// short or empty file.
#include <string>
#include <string_view>

namespace axon::cli {

// Writes `bytes` to `path` (created or truncated). On failure a partly written regular
// file is removed and Error names `option` and the path.
void write_output_file(const std::string& path, std::string_view bytes, const std::string& option);

// Writes `bytes` to standard output and flushes it; Error on any failure.
void write_stdout(std::string_view bytes);

}  // namespace axon::cli
