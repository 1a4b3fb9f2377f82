#pragma once
// Config: a JSON-like value (null, bool, integer, number, string, list, object with its
// keys in order) that layers, optimizers and augmentations describe themselves with, as
// Keras's get_config(). ConfigReader reads one back with errors that name the field
// ("layers[1].rate: expected a number in [0, 1), got 1.5") and notices fields nobody read.
//
//   Config Dense::config() const { return Config::object().set("units", units_).set("activation", activation_name_); }
//   std::shared_ptr<Module> Dense::from_config(const ConfigReader& c) {
//     return std::make_shared<Dense>(c.integer("units", 1), c.string_or("activation", "linear"));
//   }
#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "axon/error.h"

namespace axon {

class Config {
 public:
  enum class Kind { null, boolean, integer, number, string, list, object };
  using Entry = std::pair<std::string, Config>;

  Config() = default;  // null
  Config(bool value) : kind_(Kind::boolean), integer_(value) {}
  Config(int value) : kind_(Kind::integer), integer_(value) {}
  Config(int64_t value) : kind_(Kind::integer), integer_(value) {}
  Config(uint64_t value);  // must fit in int64
  Config(double value) : kind_(Kind::number), number_(value) {}
  Config(const char* value) : kind_(Kind::string), string_(value) {}
  Config(std::string value) : kind_(Kind::string), string_(std::move(value)) {}
  Config(const std::vector<int64_t>& values);  // a list of integers
  template <size_t N>
  Config(const std::array<int64_t, N>& values) : Config(std::vector<int64_t>(values.begin(), values.end())) {}

  static Config list(std::vector<Config> items = {});
  static Config object();

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::null; }
  bool is_number() const { return kind_ == Kind::integer || kind_ == Kind::number; }

  // Objects: set replaces the value of an existing key or appends a new one.
  Config& set(const std::string& key, Config value);
  const Config* find(std::string_view key) const;  // null when absent
  const std::vector<Entry>& entries() const;
  // Lists.
  Config& push(Config value);
  const std::vector<Config>& items() const;
  size_t size() const;  // of a list or an object

  bool as_bool() const;
  int64_t as_integer() const;
  double as_number() const;  // an integer or a number
  const std::string& as_string() const;

  // JSON text; indent < 0 writes one line.
  std::string dump(int indent = -1) const;
  // Parses JSON text, refusing nesting deeper than max_depth before it is built (a
  // hostile file cannot exhaust the stack). `source` names the text in errors.
  static Config parse(std::string_view json_text, const std::string& source, int max_depth = 64);

  bool operator==(const Config& other) const;

 private:
  Kind kind_ = Kind::null;
  int64_t integer_ = 0;
  double number_ = 0;
  std::string string_;
  std::vector<Config> items_;
  std::vector<Entry> entries_;
};

// A Config seen through its path in a larger document. Every getter names the path in
// its error; reject_unknown() fails on any object field that no getter asked for.
class ConfigReader {
 public:
  ConfigReader(const Config& value, std::string path);

  const Config& value() const { return value_; }
  const std::string& path() const { return path_; }
  bool has(std::string_view key) const;         // present and not null (marks it read)
  ConfigReader at(std::string_view key) const;  // required
  ConfigReader element(size_t i) const;
  size_t size() const;  // elements of a list (fails unless a list)

  // Typed fields; the `_or` forms give `fallback` when the field is absent or null.
  int64_t integer(std::string_view key, int64_t low) const;
  int64_t integer_or(std::string_view key, int64_t fallback, int64_t low) const;
  // A number in [low, high], or [low, high) with high_open.
  double number(std::string_view key, double low, double high, bool high_open = false) const;
  double number_or(std::string_view key, double fallback, double low, double high, bool high_open = false) const;
  bool boolean_or(std::string_view key, bool fallback) const;
  std::string string(std::string_view key) const;
  std::string string_or(std::string_view key, const std::string& fallback) const;
  // A list of integers >= low (-1 allowed where allow_minus_one).
  std::vector<int64_t> integers(std::string_view key, int64_t low, bool allow_minus_one = false) const;
  // An integer n (meaning {n, n}) or a list of two integers >= low.
  std::array<int64_t, 2> pair(std::string_view key, int64_t low) const;

  // This value as a type (for a reader that is itself the field).
  int64_t as_integer(int64_t low) const;
  double as_number(double low, double high, bool high_open = false) const;
  bool as_bool() const;
  std::string as_string() const;

  [[noreturn]] void bad(const std::string& expected) const;
  void expect_object() const;
  // Fails naming the first field of this object that was never read, and what was.
  void reject_unknown() const;
  // Runs `make` and prefixes any Error it throws with this field's path.
  template <class F>
  auto named(F&& make) const -> decltype(make());

 private:
  std::string child_path(std::string_view key) const;
  [[noreturn]] void rethrow_named(const Error& e) const;

  const Config& value_;
  std::string path_;
  std::shared_ptr<std::set<std::string, std::less<>>> read_;  // keys asked for, shared by copies
};

template <class F>
auto ConfigReader::named(F&& make) const -> decltype(make()) {
  try {
    return make();
  } catch (const Error& e) {
    rethrow_named(e);
  }
}

}  // namespace axon
