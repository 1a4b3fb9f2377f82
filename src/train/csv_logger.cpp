#include <cerrno>
#include <cstring>

#include "axon/callbacks.h"
#include "axon/error.h"

namespace axon {

CSVLogger::CSVLogger(std::string path, bool append, char separator)
    : path_(std::move(path)), append_(append), separator_(separator) {
  if (path_.empty()) fail("CSVLogger: path is empty");
}

CSVLogger::~CSVLogger() {
  if (file_) std::fclose(file_);
}

void CSVLogger::on_train_begin(const Logs&) {
  if (file_) std::fclose(file_);
  // Appending to a file that has content: its header is already there.
  bool has_header = false;
  if (append_)
    if (std::FILE* existing = std::fopen(path_.c_str(), "r")) {
      has_header = std::fgetc(existing) != EOF;
      std::fclose(existing);
    }
  file_ = std::fopen(path_.c_str(), append_ ? "a" : "w");
  if (!file_) fail("CSVLogger: cannot open '", path_, "': ", std::strerror(errno));
  columns_.clear();
  if (has_header) columns_.push_back("");  // header written earlier; columns learnt from the first epoch
}

void CSVLogger::on_epoch_end(int epoch, const Logs& logs) {
  if (!file_) return;
  const bool header_pending = columns_.empty();
  if (columns_.empty() || columns_[0].empty()) {
    columns_.clear();
    for (const auto& [key, value] : logs.items()) columns_.push_back(key);
  }
  if (header_pending) {
    std::fprintf(file_, "epoch");
    for (const std::string& column : columns_) std::fprintf(file_, "%c%s", separator_, column.c_str());
    std::fprintf(file_, "\n");
  }
  std::fprintf(file_, "%d", epoch);
  for (const std::string& column : columns_) {
    if (logs.contains(column))
      std::fprintf(file_, "%c%.9g", separator_, logs.at(column));
    else
      std::fprintf(file_, "%c", separator_);
  }
  std::fprintf(file_, "\n");
  if (std::fflush(file_) != 0) fail("CSVLogger: cannot write '", path_, "': ", std::strerror(errno));
}

void CSVLogger::on_train_end(const Logs&) {
  if (file_ && std::fclose(file_) != 0) {
    file_ = nullptr;
    fail("CSVLogger: cannot write '", path_, "': ", std::strerror(errno));
  }
  file_ = nullptr;
}

}  // namespace axon
