// Text classification of fortune cookies (Debian's fortunes): which of five categories
// an entry comes from, trained on a stratified 80 % and tested on the rest. Words are
// vectorized with a vocabulary built from the training texts (kept in the model), padded
// entries masked from the embedding on; the model is a bidirectional GRU or a
// Transformer encoder. Prints test accuracy, macro F1, the confusion matrix and a
// per-class report.
// Usage: fortune_classifier [gru|transformer] [EPOCHS] [EXPORT_PREFIX]
// With EXPORT_PREFIX it also writes the vectorized splits (PREFIXx_train.npy, y_train,
// x_test, y_test) for bench/fortune.sh to train PyTorch's copy of the model on.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "axon/axon.h"

using namespace axon;

namespace {

const std::vector<std::string> kCategories = {"computers", "definitions", "politics", "science", "songs-poems"};
constexpr int64_t kLength = 64;  // words per entry, padded or cut

std::shared_ptr<Functional> classifier(const std::string& kind, const std::shared_ptr<TextVectorization>& text) {
  SymbolicTensor words = Input(Shape{kLength}, "words");
  SymbolicTensor h = Embedding(text->vocabulary_size(), 64, {.mask_zero = true})((*text)(words));
  if (kind == "gru") {
    h = Bidirectional(std::make_shared<GRU>(32))(h);
  } else {
    h = TransformerEncoderBlock(4, 128, {.dropout = 0.1})(PositionalEmbedding(kLength)(h));
    h = GlobalAveragePooling1D()(h);
  }
  h = Dropout(0.3)(h);
  return std::make_shared<Functional>(std::vector{words},
                                      std::vector{Dense(static_cast<int64_t>(kCategories.size()), "softmax")(h)});
}

}  // namespace

int main(int argc, char** argv) {
  const std::string kind = argc > 1 ? argv[1] : "gru";
  const int epochs = argc > 2 ? std::atoi(argv[2]) : 8;
  if (kind != "gru" && kind != "transformer") {
    std::fprintf(stderr, "usage: fortune_classifier [gru|transformer] [EPOCHS]\n");
    return 2;
  }
  const datasets::Texts fortunes = datasets::fortunes(kCategories);
  const int64_t n = static_cast<int64_t>(fortunes.texts.size());
  // Split the entries' indices, stratified by category.
  std::vector<double> index(static_cast<size_t>(n)), labels(fortunes.labels.begin(), fortunes.labels.end());
  for (int64_t i = 0; i < n; ++i) index[static_cast<size_t>(i)] = static_cast<double>(i);
  const TrainTestSplit split = train_test_split(Tensor::from(index, Shape{n, 1}), Tensor::from(labels, Shape{n}), 0.2,
                                                true, 1);
  auto texts_of = [&](const Tensor& rows) {
    std::vector<std::string> out;
    for (double i : rows.to_vector()) out.push_back(fortunes.texts[static_cast<size_t>(i)]);
    return out;
  };
  const std::vector<std::string> train_texts = texts_of(split.x_train), test_texts = texts_of(split.x_test);
  auto text = std::make_shared<TextVectorization>(
      TextVectorizationOptions{.max_tokens = 20000, .output_sequence_length = kLength});
  text->adapt(train_texts);
  std::printf("fortunes: %lld entries of %zu categories, %zu to train on, %zu to test; %lld words known\n",
              static_cast<long long>(n), kCategories.size(), train_texts.size(), test_texts.size(),
              static_cast<long long>(text->vocabulary_size()));

  manual_seed(11);
  std::shared_ptr<Functional> model = classifier(kind, text);
  model->compile(Adam(2e-3), "sparse_categorical_crossentropy", {"accuracy"});
  model->summary(std::cout);
  const Tensor x_train = text->vectorize(train_texts), x_test = text->vectorize(test_texts);
  if (argc > 3) {
    const std::string prefix = argv[3];
    write_npy(prefix + "x_train.npy", x_train);
    write_npy(prefix + "y_train.npy", split.y_train);
    write_npy(prefix + "x_test.npy", x_test);
    write_npy(prefix + "y_test.npy", split.y_test);
  }
  const auto start = std::chrono::steady_clock::now();
  model->fit(x_train, split.y_train,
             {.epochs = epochs, .batch_size = 32, .validation_data = std::pair{x_test, split.y_test}, .seed = 2});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  ConfusionMatrix confusion(static_cast<int64_t>(kCategories.size()));
  confusion.update(model->predict(x_test), split.y_test);
  F1Score f1(Averaging::macro, static_cast<int64_t>(kCategories.size()));
  f1.update(model->predict(x_test), split.y_test);
  std::printf("\n%s: test accuracy %.4f, macro F1 %.4f (training %.1f s)\n", kind.c_str(),
              model->evaluate(x_test, split.y_test).at("accuracy"), f1.result(), seconds);
  std::printf("axon model=%s accuracy=%.4f macro_f1=%.4f seconds=%.1f\n\n", kind.c_str(),
              model->evaluate(x_test, split.y_test).at("accuracy"), f1.result(), seconds);
  std::cout << confusion.str(kCategories) << "\n" << classification_report(confusion, kCategories);
}
