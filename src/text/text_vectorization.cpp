#include <algorithm>
#include <cctype>
#include <map>

#include "axon/registry.h"
#include "axon/text.h"

namespace axon {

AXON_REGISTER(Module, "text_vectorization", TextVectorization);

namespace {

constexpr const char* kUnknown = "[UNK]";

// Calls visit(code point) for each UTF-8 code point of text, as its bytes; a malformed
// byte stands alone.
template <class Visit>
void for_each_character(const std::string& text, Visit&& visit) {
  std::string character;
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 1;
    if (i + length > text.size()) length = 1;
    for (size_t k = 1; k < length; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) length = 1;
    character.assign(text, i, length);
    visit(character);
    i += length;
  }
}

}  // namespace

TextVectorization::TextVectorization(TextVectorizationOptions options) : options_(std::move(options)) {
  if (options_.split != "whitespace" && options_.split != "character")
    fail("TextVectorization: split must be \"whitespace\" or \"character\", got \"", options_.split, "\"");
  if (options_.standardize != "lower_and_strip_punctuation" && options_.standardize != "lower" &&
      options_.standardize != "none")
    fail("TextVectorization: standardize must be \"lower_and_strip_punctuation\", \"lower\" or \"none\", got \"",
         options_.standardize, "\"");
  if (options_.max_tokens < 0 || options_.max_tokens == 1 || options_.max_tokens == 2)
    fail("TextVectorization: max_tokens must be 0 (no limit) or >= 3 (padding, [UNK] and a token), got ",
         options_.max_tokens);
  if (options_.output_sequence_length < 0)
    fail("TextVectorization: output_sequence_length must be >= 0, got ", options_.output_sequence_length);
  set_vocabulary({});
}

void TextVectorization::set_vocabulary(std::vector<std::string> vocabulary) {
  vocabulary_ = {"", kUnknown};
  index_.clear();
  for (std::string& token : vocabulary) {
    if (token.empty() || token == kUnknown || index_.contains(token))
      fail("TextVectorization: the vocabulary holds \"", token, "\" twice, or padding or [UNK] itself");
    index_[token] = static_cast<int64_t>(vocabulary_.size());
    vocabulary_.push_back(std::move(token));
  }
}

template <class Visit>
void TextVectorization::for_each_token(const std::string& text, Visit&& visit) const {
  std::string standard = text;
  if (options_.standardize != "none") {
    for (char& c : standard) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (options_.standardize == "lower_and_strip_punctuation")
      std::erase_if(standard, [](char c) { return std::ispunct(static_cast<unsigned char>(c)) != 0; });
  }
  if (options_.split == "character") return for_each_character(standard, visit);
  std::string word;
  for (char c : standard) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      word += c;
    } else if (!word.empty()) {
      visit(word);
      word.clear();
    }
  }
  if (!word.empty()) visit(word);
}

std::vector<std::string> TextVectorization::tokens(const std::string& text) const {
  std::vector<std::string> out;
  for_each_token(text, [&](const std::string& token) { out.push_back(token); });
  return out;
}

void TextVectorization::adapt(const std::vector<std::string>& texts) {
  std::map<std::string, std::pair<int64_t, int64_t>> seen;  // token -> (count, first appearance)
  int64_t order = 0;
  for (const std::string& text : texts)
    for_each_token(text, [&](const std::string& token) {
      auto [it, added] = seen.try_emplace(token, 0, order);
      if (added) ++order;
      ++it->second.first;
    });
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> ranked(seen.begin(), seen.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second.first != b.second.first ? a.second.first > b.second.first : a.second.second < b.second.second;
  });
  if (options_.max_tokens > 0 && static_cast<int64_t>(ranked.size()) > options_.max_tokens - 2)
    ranked.resize(static_cast<size_t>(options_.max_tokens - 2));
  std::vector<std::string> vocabulary;
  for (auto& entry : ranked) vocabulary.push_back(entry.first);
  set_vocabulary(std::move(vocabulary));
}

std::vector<int64_t> TextVectorization::ids(const std::string& text) const {
  std::vector<int64_t> out;
  for_each_token(text, [&](const std::string& token) {
    const auto found = index_.find(token);
    out.push_back(found == index_.end() ? 1 : found->second);
  });
  return out;
}

Tensor TextVectorization::vectorize(const std::vector<std::string>& texts) const {
  std::vector<std::vector<int64_t>> sequences;
  for (const std::string& text : texts) sequences.push_back(ids(text));
  return pad_sequences(sequences, options_.output_sequence_length, "post", "post");
}

std::string TextVectorization::decode(const std::vector<int64_t>& ids) const {
  std::string text;
  for (int64_t id : ids) {
    if (id < 0 || id >= vocabulary_size())
      fail("TextVectorization: id ", id, " is outside the vocabulary of ", vocabulary_size());
    if (id == 0) continue;
    if (options_.split == "whitespace" && !text.empty()) text += ' ';
    text += vocabulary_[static_cast<size_t>(id)];
  }
  return text;
}

Variable TextVectorization::forward(const Variable& ids) { return ids; }

Config TextVectorization::config() const {
  Config vocabulary = Config::list();
  for (size_t i = 2; i < vocabulary_.size(); ++i) vocabulary.push(vocabulary_[i]);
  return Config::object()
      .set("split", options_.split)
      .set("standardize", options_.standardize)
      .set("max_tokens", options_.max_tokens)
      .set("output_sequence_length", options_.output_sequence_length)
      .set("vocabulary", vocabulary);
}

std::shared_ptr<TextVectorization> TextVectorization::from_config(const ConfigReader& c) {
  auto layer = std::make_shared<TextVectorization>(
      TextVectorizationOptions{.split = c.string_or("split", "whitespace"),
                               .standardize = c.string_or("standardize", "lower_and_strip_punctuation"),
                               .max_tokens = c.integer_or("max_tokens", 0, 0),
                               .output_sequence_length = c.integer_or("output_sequence_length", 0, 0)});
  if (c.has("vocabulary")) {
    const ConfigReader list = c.at("vocabulary");
    std::vector<std::string> vocabulary;
    for (size_t i = 0; i < list.size(); ++i) vocabulary.push_back(list.element(i).as_string());
    layer->set_vocabulary(std::move(vocabulary));
  }
  return layer;
}

std::shared_ptr<TextVectorization> text_vectorization_of(const Module& model) {
  for (const auto& [name, child] : model.children()) {
    if (auto layer = std::dynamic_pointer_cast<TextVectorization>(child)) return layer;
    if (auto inner = text_vectorization_of(*child)) return inner;
  }
  return nullptr;
}

Tensor pad_sequences(const std::vector<std::vector<int64_t>>& sequences, int64_t maxlen, const std::string& padding,
                     const std::string& truncating, double value) {
  if ((padding != "pre" && padding != "post") || (truncating != "pre" && truncating != "post"))
    fail("pad_sequences: padding and truncating must be \"pre\" or \"post\", got \"", padding, "\" and \"",
         truncating, "\"");
  if (maxlen < 0) fail("pad_sequences: maxlen must be >= 0, got ", maxlen);
  int64_t length = maxlen;
  if (length == 0)
    for (const auto& s : sequences) length = std::max(length, static_cast<int64_t>(s.size()));
  const int64_t n = static_cast<int64_t>(sequences.size());
  Tensor out = Tensor::full(Shape{n, length}, value);
  float* p = out.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const auto& s = sequences[static_cast<size_t>(i)];
    const int64_t kept = std::min(length, static_cast<int64_t>(s.size()));
    const int64_t from = truncating == "pre" ? static_cast<int64_t>(s.size()) - kept : 0;
    const int64_t to = padding == "pre" ? length - kept : 0;
    for (int64_t k = 0; k < kept; ++k) p[i * length + to + k] = static_cast<float>(s[static_cast<size_t>(from + k)]);
  }
  return out;
}

SequenceWindows language_model_windows(const std::vector<int64_t>& ids, int64_t length, int64_t stride) {
  if (length < 1 || stride < 1) fail("language_model_windows: length and stride must be >= 1, got ", length, " and ", stride);
  const int64_t total = static_cast<int64_t>(ids.size());
  const int64_t n = total > length ? (total - length - 1) / stride + 1 : 0;
  SequenceWindows w{Tensor::empty(Shape{n, length}), Tensor::empty(Shape{n, length})};
  for (int64_t i = 0; i < n; ++i)
    for (int64_t t = 0; t < length; ++t) {
      w.x.data<float>()[i * length + t] = static_cast<float>(ids[static_cast<size_t>(i * stride + t)]);
      w.y.data<float>()[i * length + t] = static_cast<float>(ids[static_cast<size_t>(i * stride + t + 1)]);
    }
  return w;
}

}  // namespace axon
