// Text to ids: TextVectorization (words and characters, the vocabulary's order, saving
// it with a model), pad_sequences as Keras pads, language-model windows.
#include <gtest/gtest.h>

#include <filesystem>

#include "axon/axon.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

std::vector<double> row(const Tensor& t, int64_t i) {
  const std::vector<double> all = t.to_vector();
  const int64_t n = t.dim(1);
  return {all.begin() + i * n, all.begin() + (i + 1) * n};
}

TEST(TextVectorization, WordsByFrequencyWithPaddingAndUnknown) {
  TextVectorization words;
  words.adapt({"The cat sat.", "The dog, the cat!"});
  // the: 3, cat: 2, then sat and dog once each, in the order they appeared.
  EXPECT_EQ(words.vocabulary(), (std::vector<std::string>{"", "[UNK]", "the", "cat", "sat", "dog"}));
  const Tensor ids = words.vectorize({"the cat", "A dog sat, the END"});
  EXPECT_EQ(ids.shape(), (Shape{2, 5}));
  EXPECT_EQ(row(ids, 0), (std::vector<double>{2, 3, 0, 0, 0}));
  EXPECT_EQ(row(ids, 1), (std::vector<double>{1, 5, 4, 2, 1}));
  EXPECT_EQ(words.decode({2, 3, 0}), "the cat");

  TextVectorization limited({.max_tokens = 4, .output_sequence_length = 3});
  limited.adapt({"b a b c b a"});
  EXPECT_EQ(limited.vocabulary(), (std::vector<std::string>{"", "[UNK]", "b", "a"}));
  EXPECT_EQ(row(limited.vectorize({"c b a b"}), 0), (std::vector<double>{1, 2, 3}));
}

TEST(TextVectorization, CharactersAreCodePointsAndTheVocabularyTravelsWithTheModel) {
  TextVectorization chars({.split = "character", .standardize = "none"});
  chars.adapt({"Héllo"});
  EXPECT_EQ(chars.vocabulary_size(), 2 + 4);  // l twice; é one code point
  EXPECT_EQ(chars.decode(chars.ids("Hello")), "H[UNK]llo");

  SymbolicTensor tokens = Input(Shape{4}, "tokens");
  auto text = std::make_shared<TextVectorization>(TextVectorizationOptions{.split = "character", .standardize = "none"});
  text->adapt({"abcd"});
  Functional model({tokens}, {Dense(2)(Embedding(text->vocabulary_size(), 3)((*text)(tokens)))});
  const std::string path = (std::filesystem::temp_directory_path() / "axon_text.safetensors").string();
  save_model(model, path);
  std::shared_ptr<Model> back = load_model(path);
  std::shared_ptr<TextVectorization> found = text_vectorization_of(*back);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->vocabulary(), text->vocabulary());
  const Tensor ids = found->vectorize({"dcba"});
  EXPECT_EQ(back->predict(ids).to_vector(), model.predict(ids).to_vector());
  std::filesystem::remove(path);
  EXPECT_NE(error_of([] { TextVectorization({.split = "sentence"}); }).find("split"), std::string::npos);
}

TEST(PadSequences, PadsAndCutsAtEitherEndAsKeras) {
  const std::vector<std::vector<int64_t>> s = {{1, 2, 3}, {4}, {5, 6}};
  EXPECT_EQ(pad_sequences(s).to_vector(), (std::vector<double>{1, 2, 3, 0, 0, 4, 0, 5, 6}));
  EXPECT_EQ(pad_sequences(s, 2, "post", "pre").to_vector(), (std::vector<double>{2, 3, 4, 0, 5, 6}));
  EXPECT_EQ(pad_sequences(s, 2, "pre", "post", -1).to_vector(), (std::vector<double>{1, 2, -1, 4, 5, 6}));
}

TEST(LanguageModelWindows, EachTargetIsTheNextId) {
  const SequenceWindows w = language_model_windows({10, 11, 12, 13, 14, 15, 16}, 3, 2);
  EXPECT_EQ(w.x.shape(), (Shape{2, 3}));
  EXPECT_EQ(w.x.to_vector(), (std::vector<double>{10, 11, 12, 12, 13, 14}));
  EXPECT_EQ(w.y.to_vector(), (std::vector<double>{11, 12, 13, 13, 14, 15}));
  EXPECT_EQ(language_model_windows({1, 2}, 3, 1).x.dim(0), 0);
}

}  // namespace
}  // namespace axon
