#pragma once
// Text to token ids, as Keras's TextVectorization layer and pad_sequences.
//
// TextVectorization: a vocabulary built from data by adapt(), then vectorize() maps
// texts to ids (n, length): 0 is padding, 1 "[UNK]" (a token not in the vocabulary),
// then the tokens by falling frequency (ties in text order). Tokens are words (split on
// whitespace, after lower-casing and stripping ASCII punctuation by default) or
// characters (UTF-8 code points, the text as it is). The layer sits first in a model
// taking ids: in the graph it passes the ids on, and it saves the vocabulary with the
// model, so that `axon generate` and the server turn text into the same ids (and ids
// back into text with decode()).
//   TextVectorization chars({.split = "character", .standardize = "none"});
//   chars.adapt(lines);
//   Tensor ids = chars.vectorize({"In the beginning"});   // (1, 16)
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "axon/module.h"

namespace axon {

struct TextVectorizationOptions {
  std::string split = "whitespace";                      // or "character"
  std::string standardize = "lower_and_strip_punctuation";  // or "lower", "none"
  int64_t max_tokens = 0;               // the vocabulary's size limit, padding and [UNK] included; 0: none
  int64_t output_sequence_length = 0;   // pad or cut every text to this; 0: the longest given
};

class TextVectorization : public Module {
 public:
  explicit TextVectorization(TextVectorizationOptions options = {});
  // Builds the vocabulary from these texts (replacing any before).
  void adapt(const std::vector<std::string>& texts);
  void set_vocabulary(std::vector<std::string> vocabulary);  // from index 2 on: [0] "" and [1] "[UNK]" are implied
  const std::vector<std::string>& vocabulary() const { return vocabulary_; }  // with "" and "[UNK]" first
  int64_t vocabulary_size() const { return static_cast<int64_t>(vocabulary_.size()); }

  std::vector<std::string> tokens(const std::string& text) const;  // standardized and split
  std::vector<int64_t> ids(const std::string& text) const;         // unpadded
  Tensor vectorize(const std::vector<std::string>& texts) const;  // (n, length) float32 ids, padded at the end
  // ids -> text: characters joined, or words joined by spaces; padding left out.
  std::string decode(const std::vector<int64_t>& ids) const;

  Variable forward(const Variable& ids) override;  // the ids, as they are
  std::string type_name() const override { return "TextVectorization"; }
  bool propagates_mask() const override { return true; }
  Config config() const override;
  static std::shared_ptr<TextVectorization> from_config(const ConfigReader& config);
  const TextVectorizationOptions& options() const { return options_; }

 private:
  // Calls visit(token) for each token of text, standardized and split, without keeping them.
  template <class Visit>
  void for_each_token(const std::string& text, Visit&& visit) const;

  TextVectorizationOptions options_;
  std::vector<std::string> vocabulary_;
  std::unordered_map<std::string, int64_t> index_;
};

// The model's TextVectorization layer (the first found, depth first), or null.
std::shared_ptr<TextVectorization> text_vectorization_of(const Module& model);

// Keras's pad_sequences: sequences -> (n, maxlen) float32 (maxlen 0: the longest), each
// padded with `value` and cut to length at the start ("pre", Keras's default) or the
// end ("post").
Tensor pad_sequences(const std::vector<std::vector<int64_t>>& sequences, int64_t maxlen = 0,
                     const std::string& padding = "pre", const std::string& truncating = "pre", double value = 0);

// Language-model windows over one long sequence of ids: x (n, length) the windows
// starting every `stride` ids, y (n, length) the same shifted by one (each step's next
// id), as float32.
struct SequenceWindows {
  Tensor x, y;
};
SequenceWindows language_model_windows(const std::vector<int64_t>& ids, int64_t length, int64_t stride);

}  // namespace axon
