// HtmlReport: the file a run leaves, read back as text: one point per epoch on each
// curve, classes x classes heat-map cells, misclassified images, live refresh while
// training and none at the end, nothing that needs the network or a script.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "axon/axon.h"

namespace axon {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Three classes of 4x4 "images": a bright row 0, 1 or 2, plus noise.
struct Data {
  Tensor x, y;
};
Data images(int64_t n) {
  Generator generator(3);
  Data d{Tensor::empty({n, 16}), Tensor::empty({n})};
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = i % 3;
    for (int64_t p = 0; p < 16; ++p)
      d.x.data<float>()[i * 16 + p] = (p / 4 == label ? 1.0f : 0.0f) + 0.6f * static_cast<float>(generator.normal());
    d.y.data<float>()[i] = static_cast<float>(label);
  }
  return d;
}

// Reads the report as the epoch ends, after HtmlReport wrote it.
struct Peek : Callback {
  explicit Peek(std::string path) : path(std::move(path)) {}
  void on_epoch_end(int, const Logs&) override { during = read(path); }
  std::string path, during;
};

TEST(HtmlReport, CurvesHeatMapAndExamples) {
  const std::string path = testing::TempDir() + "axon_report.html";
  const Data train = images(90), test = images(30);
  manual_seed(4);
  Sequential model(Shape{16});
  model.add(Dense(8, "relu"));
  model.add(Dense(3, "softmax"));
  model.compile(Adam(0.01), "sparse_categorical_crossentropy", {"accuracy"});
  auto report = std::make_shared<HtmlReport>(path, HtmlReportOptions{.title = "blobs <test>",
                                                                     .command = "train --seed 4",
                                                                     .evaluation_data = std::pair{test.x, test.y},
                                                                     .class_names = {"top", "second", "third"}});
  auto peek = std::make_shared<Peek>(path);
  model.fit(train.x, train.y,
            {.epochs = 4, .batch_size = 16, .validation_split = 0.2, .callbacks = {report, peek}, .verbose = 0});
  const std::string html = read(path);
  EXPECT_EQ(count(html, "class=\"point\" data-series=\"loss\""), 4u);
  EXPECT_EQ(count(html, "class=\"point\" data-series=\"val_loss\""), 4u);
  EXPECT_EQ(count(html, "class=\"point\" data-series=\"accuracy\""), 4u);
  EXPECT_EQ(count(html, "class=\"point\" data-series=\"learning_rate\""), 4u);
  EXPECT_EQ(count(html, "<rect class=\"cell\""), 9u);
  EXPECT_NE(html.find("blobs &lt;test&gt;"), std::string::npos);  // escaped
  EXPECT_NE(html.find("train --seed 4"), std::string::npos);
  EXPECT_NE(html.find("samples/s"), std::string::npos);
  EXPECT_NE(html.find("dense_1"), std::string::npos);  // the summary
  EXPECT_NE(html.find(">second<"), std::string::npos);
  EXPECT_NE(html.find("Finished: 4 of 4 epochs"), std::string::npos);
  // The heat map's counts are the test set.
  size_t total = 0;
  for (size_t at = html.find("data-count=\""); at != std::string::npos; at = html.find("data-count=\"", at + 1))
    total += std::stoul(html.substr(at + 12));
  EXPECT_EQ(total, 30u);
  // Misclassified examples, if any, come as inline PNG images.
  const size_t examples = count(html, "class=\"example\"");
  EXPECT_EQ(count(html, "src=\"data:image/png;base64,iVBORw0KGgo"), examples);
  // Self-contained and static; live while training only.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // the SVG namespace is no fetch
  EXPECT_EQ(html.find("http-equiv=\"refresh\""), std::string::npos);
  EXPECT_NE(peek->during.find("http-equiv=\"refresh\""), std::string::npos);
  EXPECT_NE(peek->during.find("Training: 4 of 4 epochs"), std::string::npos);
}

}  // namespace
}  // namespace axon
