// The server's strict JSON reader: what it accepts, what it refuses, and its bounds.
#include <gtest/gtest.h>

#include <charconv>
#include <cstring>
#include <limits>
#include <random>

#include "serve/http_error.h"
#include "serve/json_reader.h"

namespace axon::serve {
namespace {

// Skips one whole document; returns "" or the error message.
std::string check(const std::string& text, int depth = 64) {
  try {
    JsonReader reader(text, depth);
    reader.skip();
    reader.finish();
  } catch (const HttpError& e) {
    return e.what();
  }
  return "";
}

TEST(JsonReader, AcceptsValidDocuments) {
  for (const char* ok : {"0", "-0", "1.5", "-12.25e-3", "1E+2", "\"\"", "\"a\\\\b\\\"c\\/\\n\\u00e9\"", "true", "false",
                         "null", "[]", "{}", " [1, [2, [3]], {\"a\": {\"b\": []}}] ", "{\"k\": \"v\", \"n\": -1}"})
    EXPECT_EQ(check(ok), "") << ok;
}

TEST(JsonReader, RefusesWhatJsonForbids) {
  for (const char* bad : {"",
                          "[1,]",
                          "[,1]",
                          "{\"a\":1,}",
                          "{a:1}",
                          "01",
                          "+1",
                          ".5",
                          "1.",
                          "1e",
                          "-",
                          "0x10",
                          "nan",
                          "Infinity",
                          "tru",
                          "\"unterminated",
                          "\"bad \\q escape\"",
                          "\"\\ud800\"",
                          "\"\\udc00\"",
                          "\"\x01\"",
                          "[1] 2",
                          "{\"a\" 1}",
                          "[1 2]",
                          "{\"a\":}",
                          "'single'"})
    EXPECT_NE(check(bad), "") << bad;
}

TEST(JsonReader, DepthIsBounded) {
  EXPECT_EQ(check(std::string(64, '[') + std::string(64, ']')), "");
  EXPECT_NE(check(std::string(65, '[') + std::string(65, ']')).find("nested deeper than 64"), std::string::npos);
  EXPECT_NE(check(std::string(100000, '[')).find("nested deeper than 64"), std::string::npos);  // no stack overflow
}

TEST(JsonReader, ReadsStringsNumbersAndNestedNumberLists) {
  JsonReader reader(R"({"id": "caf\u00e9 \ud83d\ude00", "data": [[1, 2.5], [-3e2]], "n": 7})", 64);
  std::string id;
  std::vector<float> values;
  size_t count = 0;
  int64_t n = 0;
  NumberStats stats;
  reader.object([&](const std::string& key) {
    if (key == "id")
      id = reader.string();
    else if (key == "data")
      count = reader.numbers(values, "data", stats);
    else
      n = reader.integer();
  });
  reader.finish();
  EXPECT_EQ(id, "caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(count, 3u);
  EXPECT_EQ(values, (std::vector<float>{1, 2.5f, -300}));
  EXPECT_EQ(n, 7);
  JsonReader letters(R"([1, "x"])", 64);
  std::vector<float> sink;
  NumberStats ignored;
  EXPECT_THROW(letters.numbers(sink, "data", ignored), HttpError);
  JsonReader fraction("1.5", 64);
  EXPECT_THROW(fraction.integer(), HttpError);
}

// Numbers beyond float32 (and beyond double) are found, not coerced to 0 or infinity
// without a word; fractions and the extremes are located for integer datatypes.
TEST(JsonReader, NumberStatsLocateWhatADatatypeCannotHold) {
  std::vector<float> values;
  NumberStats stats;
  JsonReader reader("[3, -7.5, 1e39, 1e400, 250, 1e-400, -1e400]", 64);
  EXPECT_EQ(reader.numbers(values, "data", stats), 7u);
  EXPECT_EQ(stats.count, 7u);
  EXPECT_EQ(stats.first_not_float, 2u);  // 1e39: finite as a double, infinite as a float
  EXPECT_EQ(stats.first_fraction, 1u);
  EXPECT_EQ(stats.min, -7.5);
  EXPECT_EQ(stats.min_at, 1u);
  EXPECT_EQ(stats.max, 250);
  EXPECT_EQ(stats.max_at, 4u);
  EXPECT_EQ(values[5], 0.0f);  // underflow is 0, as in every JSON reader
  JsonReader huge("1e400", 64);
  EXPECT_EQ(huge.number(), std::numeric_limits<double>::infinity());
  JsonReader whole("[1, 2]", 64);
  NumberStats integers;
  whole.numbers(values, "data", integers);
  EXPECT_EQ(integers.first_fraction, NumberStats::none);
  EXPECT_EQ(integers.first_not_float, NumberStats::none);
}

// The fast path (mantissa <= 2^53, |power of ten| <= 22) gives the very double
// from_chars gives, and the slow path the rest: 200,000 numbers of every shape.
TEST(JsonReader, NumbersAreTheDoublesFromCharsGives) {
  std::mt19937_64 generator(7);
  const auto pick = [&](uint64_t n) { return static_cast<uint64_t>(generator() % n); };
  for (int i = 0; i < 200000; ++i) {
    std::string text = pick(4) == 0 ? "-" : "";
    const uint64_t whole_digits = 1 + pick(i % 3 == 0 ? 20 : 8);
    text += pick(6) == 0 ? "0" : std::to_string(1 + pick(9));
    if (text.back() != '0')
      for (uint64_t d = 1; d < whole_digits; ++d) text += static_cast<char>('0' + pick(10));
    if (pick(2)) {
      text += '.';
      for (uint64_t d = 0, n = 1 + pick(12); d < n; ++d) text += static_cast<char>('0' + pick(10));
    }
    if (pick(3) == 0) text += (pick(2) ? "e" : "E") + std::string(pick(2) ? "-" : "") + std::to_string(pick(40));
    double expected = 0;
    std::from_chars(text.data(), text.data() + text.size(), expected);
    JsonReader reader(text, 64);
    const double got = reader.number();
    ASSERT_EQ(std::memcmp(&got, &expected, sizeof got), 0) << text << ": " << got << " vs " << expected;
  }
}

}  // namespace
}  // namespace axon::serve
