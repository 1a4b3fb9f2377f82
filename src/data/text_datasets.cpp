// Text corpora from Debian packages: the King James Bible and the fortune cookies.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "axon/error.h"
#include "axon/packaged_datasets.h"

namespace axon::datasets {

namespace {

// `bible`'s output: "Genesis 1" headings, "  1 In the beginning ..." verses whose long
// lines continue unindented, blank lines between chapters -> one verse per line.
std::string verses_of(std::istream& in) {
  std::string text, line, verse;
  auto finish = [&] {
    if (!verse.empty()) text += verse + "\n";
    verse.clear();
  };
  while (std::getline(in, line)) {
    const size_t start = line.find_first_not_of(' ');
    if (start == std::string::npos) {
      finish();
      continue;
    }
    const size_t digits = line.find_first_not_of("0123456789", start);
    if (start > 0 && digits != start && digits != std::string::npos && line[digits] == ' ') {
      finish();  // a verse: its number dropped
      verse = line.substr(digits + 1);
    } else if (start == 0 && !verse.empty()) {
      verse += " " + line;  // a verse's continuation
    } else {
      finish();  // a chapter heading
    }
  }
  finish();
  return text;
}

}  // namespace

std::string king_james_bible() {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen("bible gen1:1-rev22:21 2>/dev/null", "r"), pclose);
  std::string raw;
  if (pipe) {
    char buffer[1 << 16];
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe.get())) > 0;) raw.append(buffer, n);
  }
  std::istringstream in(raw);
  std::string text = verses_of(in);
  if (text.size() < 1000000)
    fail("king_james_bible: the `bible` program gave no text; install Debian's bible-kjv (scripts/bootstrap data)");
  return text;
}

Texts fortunes(const std::vector<std::string>& categories, const std::string& directory) {
  Texts out;
  for (size_t k = 0; k < categories.size(); ++k) {
    const std::string path = directory + "/" + categories[k];
    std::ifstream in(path);
    if (!in) fail("fortunes: cannot read ", path, " (Debian's fortunes package: scripts/bootstrap data)");
    std::string line, entry;
    auto finish = [&] {
      if (entry.find_first_not_of(" \t\n") != std::string::npos) {
        out.texts.push_back(entry);
        out.labels.push_back(static_cast<int64_t>(k));
      }
      entry.clear();
    };
    while (std::getline(in, line)) {
      if (line == "%")
        finish();
      else
        entry += line + "\n";
    }
    finish();
  }
  return out;
}

}  // namespace axon::datasets
