#include "json_reader.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "http_error.h"

namespace axon::serve {

void JsonReader::error(const std::string& what) const {
  throw HttpError(400, "malformed JSON at byte " + std::to_string(at_) + ": " + what);
}

char JsonReader::peek() {
  while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' || text_[at_] == '\t'))
    ++at_;
  return at_ < text_.size() ? text_[at_] : '\0';
}

void JsonReader::expect(char c) {
  if (peek() != c) error(std::string("expected '") + c + "'");
  ++at_;
}

bool JsonReader::consume(char c) {
  if (peek() != c) return false;
  ++at_;
  return true;
}

void JsonReader::enter() {
  if (++depth_ > max_depth_) throw HttpError(400, "JSON nested deeper than " + std::to_string(max_depth_) + " levels");
}

void JsonReader::finish() {
  if (peek() != '\0') error("unexpected content after the value");
}

namespace {

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

}  // namespace

std::string JsonReader::string() {
  expect('"');
  std::string out;
  auto hex4 = [&]() -> uint32_t {
    if (at_ + 4 > text_.size()) error("short \\u escape");
    uint32_t value = 0;
    const auto [end, ec] = std::from_chars(text_.data() + at_, text_.data() + at_ + 4, value, 16);
    if (ec != std::errc() || end != text_.data() + at_ + 4) error("bad \\u escape");
    at_ += 4;
    return value;
  };
  while (true) {
    if (at_ >= text_.size()) error("unterminated string");
    const char c = text_[at_++];
    if (c == '"') return out;
    if (static_cast<unsigned char>(c) < 0x20) error("control character in a string");
    if (c != '\\') {
      out += c;
      continue;
    }
    if (at_ >= text_.size()) error("unterminated escape");
    switch (const char e = text_[at_++]) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        uint32_t code = hex4();
        if (code >= 0xD800 && code < 0xDC00) {  // a surrogate pair
          if (at_ + 2 > text_.size() || text_[at_] != '\\' || text_[at_ + 1] != 'u') error("lone surrogate");
          at_ += 2;
          const uint32_t low = hex4();
          if (low < 0xDC00 || low >= 0xE000) error("bad surrogate pair");
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        } else if (code >= 0xDC00 && code < 0xE000) {
          error("lone surrogate");
        }
        append_utf8(out, code);
        break;
      }
      default:
        error("bad escape");
    }
  }
}

double JsonReader::number() {
  const char first = peek();
  const size_t start = at_;
  // JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  // The digits are gathered on the way for the fast path below.
  uint64_t mantissa = 0;
  bool exact = true;  // mantissa holds every digit, and is at most 2^53
  auto digits = [&](int64_t* fraction_digits) {
    const size_t from = at_;
    while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') {
      const auto digit = static_cast<uint64_t>(text_[at_] - '0');
      if (mantissa > ((uint64_t{1} << 53) - digit) / 10) exact = false;
      if (exact) mantissa = mantissa * 10 + digit;
      if (fraction_digits) ++*fraction_digits;
      ++at_;
    }
    return at_ - from;
  };
  int64_t fraction = 0, exponent = 0;
  const bool negative = first == '-';
  if (negative) ++at_;
  if (at_ < text_.size() && text_[at_] == '0')
    ++at_;
  else if (digits(nullptr) == 0)
    error("expected a number");
  if (at_ < text_.size() && text_[at_] == '.') {
    ++at_;
    if (digits(&fraction) == 0) error("expected digits after '.'");
  }
  if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
    ++at_;
    const bool negative_exponent = at_ < text_.size() && text_[at_] == '-';
    if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
    const size_t from = at_;
    while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') {
      if (at_ - from < 6) exponent = exponent * 10 + (text_[at_] - '0');
      ++at_;
    }
    if (at_ == from) error("expected an exponent");
    if (at_ - from >= 6) exact = false;
    if (negative_exponent) exponent = -exponent;
  }
  // Clinger's fast path: a mantissa of at most 2^53 and a power of ten up to 10^22 are
  // both exact doubles, so one multiplication or division rounds correctly, to the
  // same double as from_chars, at a fraction of its cost (most request numbers).
  const int64_t power = exponent - fraction;
  if (exact && power >= -22 && power <= 22) {
    static constexpr double kPowers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                         1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const auto m = static_cast<double>(mantissa);
    const double value = power >= 0 ? m * kPowers[power] : m / kPowers[-power];
    return negative ? -value : value;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + at_, value);
  if (end != text_.data() + at_ || (ec != std::errc() && ec != std::errc::result_out_of_range)) error("bad number");
  // Out of range leaves `value` unset: strtod tells overflow (+-HUGE_VAL) from underflow.
  if (ec == std::errc::result_out_of_range)
    value = std::strtod(std::string(text_.substr(start, at_ - start)).c_str(), nullptr);
  return value;
}

int64_t JsonReader::integer() {
  const double value = number();
  if (value != std::floor(value) || std::abs(value) > 9.0e15)
    throw HttpError(400, "expected an integer, got " + std::to_string(value));
  return static_cast<int64_t>(value);
}

void NumberStats::add(double value) {
  const size_t at = count++;
  if (!(std::abs(value) <= std::numeric_limits<float>::max())) {
    if (first_not_float == none) first_not_float = at;
    return;
  }
  if (first_fraction == none && value != std::floor(value)) first_fraction = at;
  if (min_at == none || value < min) min = value, min_at = at;
  if (max_at == none || value > max) max = value, max_at = at;
}

size_t JsonReader::numbers(std::vector<float>& out, const char* field, NumberStats& stats) {
  const char c = peek();
  if (c == '[') {
    size_t count = 0;
    array([&] { count += numbers(out, field, stats); });
    return count;
  }
  if (c != '-' && (c < '0' || c > '9')) throw HttpError(400, std::string(field) + " must hold only numbers");
  const double value = number();
  stats.add(value);
  out.push_back(static_cast<float>(value));
  return 1;
}

void JsonReader::skip() {
  switch (peek()) {
    case '{':
      object([&](const std::string&) { skip(); });
      return;
    case '[':
      array([&] { skip(); });
      return;
    case '"':
      string();
      return;
    case 't':
    case 'f':
    case 'n': {
      for (const std::string_view word :
           {std::string_view("true"), std::string_view("false"), std::string_view("null")})
        if (text_.substr(at_, word.size()) == word) {
          at_ += word.size();
          return;
        }
      error("unknown literal");
    }
    default:
      number();
  }
}

}  // namespace axon::serve
