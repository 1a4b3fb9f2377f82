#include "axon/config.h"

#include <cmath>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

namespace axon {

namespace {

using json = nlohmann::ordered_json;

const char* kind_name(Config::Kind kind) {
  switch (kind) {
    case Config::Kind::null:
      return "null";
    case Config::Kind::boolean:
      return "a boolean";
    case Config::Kind::integer:
      return "an integer";
    case Config::Kind::number:
      return "a number";
    case Config::Kind::string:
      return "a string";
    case Config::Kind::list:
      return "a list";
    case Config::Kind::object:
      return "an object";
  }
  return "?";
}

json to_json(const Config& c) {
  switch (c.kind()) {
    case Config::Kind::null:
      return nullptr;
    case Config::Kind::boolean:
      return c.as_bool();
    case Config::Kind::integer:
      return c.as_integer();
    case Config::Kind::number:
      return c.as_number();
    case Config::Kind::string:
      return c.as_string();
    case Config::Kind::list: {
      json out = json::array();
      for (const Config& item : c.items()) out.push_back(to_json(item));
      return out;
    }
    case Config::Kind::object: {
      json out = json::object();
      for (const auto& [key, value] : c.entries()) out[key] = to_json(value);
      return out;
    }
  }
  return nullptr;
}

// Builds a Config straight from the parser's events: no intermediate document, and
// nesting is refused as soon as it passes the limit.
class Builder : public nlohmann::json_sax<json> {
 public:
  Builder(const std::string& source, int max_depth) : source_(source), max_depth_(max_depth) {}
  Config result;

  bool null() override { return put(Config()); }
  bool boolean(bool value) override { return put(Config(value)); }
  bool number_integer(number_integer_t value) override { return put(Config(static_cast<int64_t>(value))); }
  bool number_unsigned(number_unsigned_t value) override {
    if (value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return put(Config(static_cast<int64_t>(value)));
    return put(Config(static_cast<double>(value)));
  }
  bool number_float(number_float_t value, const string_t&) override { return put(Config(static_cast<double>(value))); }
  bool string(string_t& value) override { return put(Config(std::move(value))); }
  bool binary(binary_t&) override { fail(source_, ": not valid JSON: binary values are not JSON"); }
  bool start_object(std::size_t) override { return open(Config::object()); }
  bool key(string_t& key) override {
    if (stack_.back()->find(key)) fail(source_, ": not valid JSON for a config: the key \"", key, "\" appears twice");
    key_ = std::move(key);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(Config::list()); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    fail(source_, ": not valid JSON: ", e.what());
  }

 private:
  // Places a value in the container being built (or as the result) and returns where it lives.
  Config* place(Config value) {
    if (stack_.empty()) {
      result = std::move(value);
      return &result;
    }
    Config& top = *stack_.back();
    if (top.kind() == Config::Kind::list) {
      top.push(std::move(value));
      return &const_cast<Config&>(top.items().back());
    }
    top.set(key_, std::move(value));
    return &const_cast<Config&>(top.entries().back().second);
  }
  bool put(Config value) {
    place(std::move(value));
    return true;
  }
  bool open(Config container) {
    if (static_cast<int>(stack_.size()) >= max_depth_)
      fail(source_, ": JSON nested deeper than ", max_depth_, " levels");
    stack_.push_back(place(std::move(container)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  const std::string& source_;
  int max_depth_;
  std::vector<Config*> stack_;  // the open containers; each lives inside the one below (never moved while open)
  std::string key_;
};

}  // namespace

Config::Config(uint64_t value) : kind_(Kind::integer), integer_(static_cast<int64_t>(value)) {
  if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    fail("Config: integer ", value, " does not fit in 64 signed bits");
}

Config::Config(const std::vector<int64_t>& values) : kind_(Kind::list) {
  for (int64_t v : values) items_.emplace_back(v);
}

Config Config::list(std::vector<Config> items) {
  Config c;
  c.kind_ = Kind::list;
  c.items_ = std::move(items);
  return c;
}

Config Config::object() {
  Config c;
  c.kind_ = Kind::object;
  return c;
}

Config& Config::set(const std::string& key, Config value) {
  if (kind_ != Kind::object) fail("Config::set: not an object");
  for (auto& [existing, old] : entries_)
    if (existing == key) {
      old = std::move(value);
      return *this;
    }
  entries_.emplace_back(key, std::move(value));
  return *this;
}

const Config* Config::find(std::string_view key) const {
  if (kind_ != Kind::object) return nullptr;
  for (const auto& [existing, value] : entries_)
    if (existing == key) return &value;
  return nullptr;
}

const std::vector<Config::Entry>& Config::entries() const {
  if (kind_ != Kind::object) fail("Config: expected an object, got ", kind_name(kind_));
  return entries_;
}

Config& Config::push(Config value) {
  if (kind_ != Kind::list) fail("Config::push: not a list");
  items_.push_back(std::move(value));
  return *this;
}

const std::vector<Config>& Config::items() const {
  if (kind_ != Kind::list) fail("Config: expected a list, got ", kind_name(kind_));
  return items_;
}

size_t Config::size() const {
  return kind_ == Kind::list ? items_.size() : kind_ == Kind::object ? entries_.size() : 0;
}

bool Config::as_bool() const {
  if (kind_ != Kind::boolean) fail("Config: expected a boolean, got ", kind_name(kind_));
  return integer_ != 0;
}

int64_t Config::as_integer() const {
  if (kind_ != Kind::integer) fail("Config: expected an integer, got ", kind_name(kind_));
  return integer_;
}

double Config::as_number() const {
  if (kind_ == Kind::integer) return static_cast<double>(integer_);
  if (kind_ != Kind::number) fail("Config: expected a number, got ", kind_name(kind_));
  return number_;
}

const std::string& Config::as_string() const {
  if (kind_ != Kind::string) fail("Config: expected a string, got ", kind_name(kind_));
  return string_;
}

std::string Config::dump(int indent) const {
  return to_json(*this).dump(indent, ' ', false, json::error_handler_t::replace);
}

Config Config::parse(std::string_view json_text, const std::string& source, int max_depth) {
  Builder builder(source, max_depth);
  json::sax_parse(json_text.begin(), json_text.end(), &builder);
  return std::move(builder.result);
}

bool Config::operator==(const Config& other) const {
  if (is_number() && other.is_number()) return as_number() == other.as_number();
  return kind_ == other.kind_ && integer_ == other.integer_ && string_ == other.string_ && items_ == other.items_ &&
         entries_ == other.entries_;
}

// --- ConfigReader ---

ConfigReader::ConfigReader(const Config& value, std::string path)
    : value_(value), path_(std::move(path)), read_(std::make_shared<std::set<std::string, std::less<>>>()) {}

std::string ConfigReader::child_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void ConfigReader::bad(const std::string& expected) const {
  std::string got = value_.dump();
  if (got.size() > 80) got = got.substr(0, 77) + "...";
  if (path_.empty()) fail("expected ", expected, ", got ", got);
  fail(path_, ": expected ", expected, ", got ", got);
}

void ConfigReader::expect_object() const {
  if (value_.kind() != Config::Kind::object) bad("an object");
}

bool ConfigReader::has(std::string_view key) const {
  expect_object();
  read_->emplace(key);
  const Config* v = value_.find(key);
  return v && !v->is_null();
}

ConfigReader ConfigReader::at(std::string_view key) const {
  expect_object();
  read_->emplace(key);
  const Config* v = value_.find(key);
  if (!v) fail(child_path(key), ": missing");
  return {*v, child_path(key)};
}

ConfigReader ConfigReader::element(size_t i) const {
  return {value_.items().at(i), path_ + "[" + std::to_string(i) + "]"};
}

size_t ConfigReader::size() const {
  if (value_.kind() != Config::Kind::list) bad("a list");
  return value_.size();
}

int64_t ConfigReader::as_integer(int64_t low) const {
  if (value_.kind() != Config::Kind::integer || value_.as_integer() < low) bad("an integer >= " + std::to_string(low));
  return value_.as_integer();
}

double ConfigReader::as_number(double low, double high, bool high_open) const {
  std::ostringstream range;
  range << "a number in [" << low << ", " << high << (high_open ? ")" : "]");
  if (!value_.is_number()) bad(range.str());
  const double v = value_.as_number();
  if (!(v >= low) || v > high || (high_open && v == high)) bad(range.str());
  return v;
}

bool ConfigReader::as_bool() const {
  if (value_.kind() != Config::Kind::boolean) bad("true or false");
  return value_.as_bool();
}

std::string ConfigReader::as_string() const {
  if (value_.kind() != Config::Kind::string) bad("a string");
  return value_.as_string();
}

int64_t ConfigReader::integer(std::string_view key, int64_t low) const { return at(key).as_integer(low); }
int64_t ConfigReader::integer_or(std::string_view key, int64_t fallback, int64_t low) const {
  return has(key) ? integer(key, low) : fallback;
}
double ConfigReader::number(std::string_view key, double low, double high, bool high_open) const {
  return at(key).as_number(low, high, high_open);
}
double ConfigReader::number_or(std::string_view key, double fallback, double low, double high, bool high_open) const {
  return has(key) ? number(key, low, high, high_open) : fallback;
}
bool ConfigReader::boolean_or(std::string_view key, bool fallback) const {
  return has(key) ? at(key).as_bool() : fallback;
}
std::string ConfigReader::string(std::string_view key) const { return at(key).as_string(); }
std::string ConfigReader::string_or(std::string_view key, const std::string& fallback) const {
  return has(key) ? string(key) : fallback;
}

std::vector<int64_t> ConfigReader::integers(std::string_view key, int64_t low, bool allow_minus_one) const {
  const ConfigReader list = at(key);
  if (list.value().kind() != Config::Kind::list || list.size() == 0) list.bad("a non-empty list of integers");
  std::vector<int64_t> values;
  for (size_t i = 0; i < list.size(); ++i) {
    const ConfigReader item = list.element(i);
    values.push_back(allow_minus_one && item.value() == Config(-1) ? -1 : item.as_integer(low));
  }
  return values;
}

std::array<int64_t, 2> ConfigReader::pair(std::string_view key, int64_t low) const {
  const ConfigReader f = at(key);
  if (f.value().kind() == Config::Kind::integer) {
    const int64_t n = f.as_integer(low);
    return {n, n};
  }
  if (f.value().kind() != Config::Kind::list || f.size() != 2)
    f.bad("an integer or a list of two integers >= " + std::to_string(low));
  return {f.element(0).as_integer(low), f.element(1).as_integer(low)};
}

void ConfigReader::reject_unknown() const {
  if (value_.kind() != Config::Kind::object) return;
  for (const auto& [key, unused] : value_.entries()) {
    if (read_->contains(key)) continue;
    std::string known;
    for (const std::string& name : *read_) known += (known.empty() ? "" : ", ") + name;
    fail(child_path(key), ": unknown field; expected one of: ", known);
  }
}

void ConfigReader::rethrow_named(const Error& e) const {
  const std::string message = e.what();
  // Errors that already name a field below this one keep their own path.
  if (path_.empty() || message.rfind(path_, 0) == 0) throw;
  fail(path_, ": ", message);
}

}  // namespace axon
