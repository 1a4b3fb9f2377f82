#include "axon/logs.h"

#include <cstdio>

#include "axon/error.h"

namespace axon {

void Logs::set(const std::string& name, double value) {
  for (auto& [key, existing] : items_)
    if (key == name) {
      existing = value;
      return;
    }
  items_.emplace_back(name, value);
}

double Logs::at(const std::string& name) const {
  for (const auto& [key, value] : items_)
    if (key == name) return value;
  std::string known;
  for (const auto& item : items_) known += (known.empty() ? "" : ", ") + item.first;
  fail("logs: no '", name, "'; have: ", known.empty() ? "nothing" : known);
}

bool Logs::contains(const std::string& name) const {
  for (const auto& item : items_)
    if (item.first == name) return true;
  return false;
}

std::string Logs::str() const {
  std::string out;
  char number[32];
  for (const auto& [key, value] : items_) {
    std::snprintf(number, sizeof number, "%.4f", value);
    out += (out.empty() ? "" : " - ") + key + ": " + number;
  }
  return out;
}

std::vector<double> History::at(const std::string& name) const {
  std::vector<double> values;
  for (const Logs& epoch : logs) values.push_back(epoch.at(name));
  return values;
}

}  // namespace axon
