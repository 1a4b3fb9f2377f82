#pragma once
// A strict, allocation-light JSON reader for request bodies: a cursor that reads the
// values it is asked for and validates (and skips) the rest. Numbers go straight into
// float arrays through std::from_chars; nesting is bounded. Errors are HttpError(400).
// Building a document (nlohmann::json) cost 120 us for one 784-pixel request; this,
// about a tenth of it.
#include <string>
#include <string_view>
#include <vector>

namespace axon::serve {

// What JsonReader::numbers saw beyond the float32 values it stored, so that they can be
// checked against a datatype that may come later in the body. Indices count numbers.
struct NumberStats {
  static constexpr size_t none = static_cast<size_t>(-1);
  size_t count = 0;
  size_t first_not_float = none;  // beyond float32's range (1e39), or beyond double's (1e400)
  size_t first_fraction = none;   // not a whole number
  double min = 0, max = 0;        // of the finite values
  size_t min_at = none, max_at = none;
  void add(double value);
};

class JsonReader {
 public:
  JsonReader(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

  // Calls on_key(key) for each member of an object; on_key must consume the value.
  template <class OnKey>
  void object(OnKey&& on_key) {
    enter();
    expect('{');
    if (!consume('}')) {
      do {
        const std::string key = string();
        expect(':');
        on_key(key);
      } while (consume(','));
      expect('}');
    }
    leave();
  }
  // Calls on_element() for each element of an array; it must consume the element.
  template <class OnElement>
  void array(OnElement&& on_element) {
    enter();
    expect('[');
    if (!consume(']')) {
      do on_element();
      while (consume(','));
      expect(']');
    }
    leave();
  }

  std::string string();
  double number();  // +-infinity for numbers beyond double's range (1e400); 0 below it
  int64_t integer();
  // Every number in a number or a (nested) list of numbers, appended to `out` and
  // counted in `stats`; returns how many. Anything else in it is an error naming `field`.
  size_t numbers(std::vector<float>& out, const char* field, NumberStats& stats);
  void skip();    // any value
  void finish();  // nothing but whitespace may follow
  char peek();    // next non-space character (0 at the end)

 private:
  void enter();
  void leave() { --depth_; }
  void expect(char c);
  bool consume(char c);
  [[noreturn]] void error(const std::string& what) const;

  std::string_view text_;
  size_t at_ = 0;
  int depth_ = 0, max_depth_;
};

}  // namespace axon::serve
