// int8 post-training quantization: the int8 layers against float references computed
// from the same quantized values, quantize(model) against the float model, model files
// with int8 tensors (round trip, a hostile float-for-int8 file), weights replaced after
// first use, and training refused.
#include <gtest/gtest.h>

#include <cmath>

#include "axon/axon.h"
#include "error_of.h"
#include "kernels/conv.h"

namespace axon {
namespace {

using test_support::error_of;

std::string temp(const std::string& name) { return ::testing::TempDir() + "axon_quant_" + name; }

double max_abs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::abs(static_cast<double>(t.data<float>()[i])));
  return m;
}

double max_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::abs(static_cast<double>(a.data<float>()[i]) - b.data<float>()[i]));
  return m;
}

Tensor predict_no_grad(Model& model, const Tensor& x) { return model.predict(x, 1 << 20); }

std::shared_ptr<Sequential> mlp(int64_t in) {
  manual_seed(1);
  auto model = std::make_shared<Sequential>(Shape{in});
  model->add(Dense(64, "relu"));
  model->add(Dropout(0.2));
  model->add(Dense(32, "tanh"));
  model->add(Dense(10, "softmax"));
  model->compile(Adam(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  return model;
}

std::shared_ptr<Sequential> cnn(const std::string& padding, Size2 strides) {
  manual_seed(2);
  auto model = std::make_shared<Sequential>(Shape{8, 11, 9});  // depth 72: the int8 GEMM
  model->add(Conv2D(6, {3, 3}, "relu", {.strides = strides, .padding = padding}));
  model->add(MaxPool2D({2, 2}));
  model->add(Conv2D(5, {2, 3}, "linear", {.padding = "same"}));  // depth 36: float32 (kFloatDepth)
  model->add(Flatten());
  model->add(Dense(4, "linear"));
  model->compile(SGD(0.01), "mse");
  return model;
}

TEST(Quantization, DenseEqualsTheFloatProductOfItsQuantizedValues) {
  auto model = mlp(20);
  auto int8 = quantize(*model);
  auto& layer = dynamic_cast<QuantizedDense&>(std::dynamic_pointer_cast<Sequential>(int8)->layer(0));
  EXPECT_EQ(layer.kernel().value().dtype(), DType::i8);
  Generator gen(5);
  const Tensor x = gen.uniform(Shape{7, 20}, -2, 3);
  // Reference: the row quantized as the kernel does (7-bit over [min(x,0), max(x,0)]),
  // times the dequantized kernel, in double.
  const Tensor& q = layer.kernel().value();
  const Tensor& scale = layer.kernel_scale().value();
  const Tensor& bias = layer.bias().value();
  NoGrad no_grad;
  const Tensor y = layer(Variable(x)).value();
  for (int64_t r = 0; r < 7; ++r) {
    double lo = 0, hi = 0;
    for (int64_t i = 0; i < 20; ++i) lo = std::min<double>(lo, x.at({r, i})), hi = std::max<double>(hi, x.at({r, i}));
    const float row_scale = static_cast<float>((hi - lo) / 127);
    const float zero = std::nearbyint(static_cast<float>(-lo) * (1 / row_scale));
    for (int64_t j = 0; j < 64; ++j) {
      double acc = bias.at({j});
      for (int64_t i = 0; i < 20; ++i) {
        const float xq =
            std::clamp(std::nearbyint(static_cast<float>(x.at({r, i})) * (1 / row_scale)) + zero, 0.f, 127.f);
        acc += (xq - zero) * row_scale * static_cast<double>(q.data<int8_t>()[i * 64 + j]) * scale.at({j});
      }
      EXPECT_NEAR(y.at({r, j}), std::max(acc, 0.0), 1e-4 * (1 + std::abs(acc))) << r << "," << j;
    }
  }
}

// A relu Conv2D with "same" padding over images of `input`'s shape, its weights drawn
// under `seed`, quantized: layer 0 of the model returned is the QuantizedConv2D.
std::shared_ptr<Sequential> quantized_same_conv(const Shape& input, int64_t filters, Size2 kernel, uint64_t seed) {
  manual_seed(seed);
  auto model = std::make_shared<Sequential>(input);
  model->add(Conv2D(filters, kernel, "relu", {.padding = "same"}));
  model->build(input);
  return std::dynamic_pointer_cast<Sequential>(quantize(*model));
}

// The reference for a QuantizedConv2D (relu): each image of x quantized with its own
// scale, dequantized (unless !quantize_input), convolved naively with the dequantized
// kernel.
Tensor naive_quantized_conv(QuantizedConv2D& layer, const Tensor& x, const Geometry2D& g, bool quantize_input = true) {
  const Tensor& q = layer.kernel().value();
  Tensor w = Tensor::empty(q.shape());
  const int64_t per_filter = q.numel() / q.dim(0);
  for (int64_t i = 0; i < q.numel(); ++i)
    w.data<float>()[i] = q.data<int8_t>()[i] * layer.kernel_scale().value().data<float>()[i / per_filter];
  Tensor xd = x.clone();
  const int64_t image = x.numel() / x.dim(0);
  for (int64_t n = 0; n < (quantize_input ? x.dim(0) : 0); ++n) {
    float lo = 0, hi = 0;
    for (int64_t i = 0; i < image; ++i)
      lo = std::min(lo, x.data<float>()[n * image + i]), hi = std::max(hi, x.data<float>()[n * image + i]);
    const float s = (hi - lo) / 127, zero = std::nearbyint(-lo * (1 / s));
    for (int64_t i = 0; i < image; ++i) {
      float& v = xd.data<float>()[n * image + i];
      v = (std::clamp(std::nearbyint(v * (1 / s)) + zero, 0.f, 127.f) - zero) * s;
    }
  }
  Tensor expected = kernels::conv2d_naive(xd, w, g);
  const int64_t plane = expected.dim(2) * expected.dim(3), filters = expected.dim(1);
  for (int64_t i = 0; i < expected.numel(); ++i) {
    float& v = expected.data<float>()[i];
    v = std::max(0.f, v + layer.bias().value().data<float>()[(i / plane) % filters]);
  }
  return expected;
}

TEST(Quantization, Conv2DEqualsTheNaiveConvolutionOfItsQuantizedValues) {
  for (const auto& [padding, stride] : {std::pair{"same", 1}, std::pair{"valid", 2}}) {
    auto model = cnn(padding, Size2(stride, 1));
    auto int8 = quantize(*model);
    auto& layer = dynamic_cast<QuantizedConv2D&>(std::dynamic_pointer_cast<Sequential>(int8)->layer(0));
    Generator gen(6);
    const Tensor x = gen.uniform(Shape{3, 8, 11, 9}, -1, 2);
    NoGrad no_grad;
    const Tensor y = layer(Variable(x)).value();
    const Geometry2D g = Window{.strides = Size2(stride, 1), .padding = padding}.resolve(11, 9, {3, 3});
    const Tensor expected = naive_quantized_conv(layer, x, g);
    EXPECT_LT(max_diff(y, expected), 1e-4 * (1 + max_abs(expected))) << padding;
  }
}

// Two channels and an 11x3 kernel: patch rows of 68 bytes, each piece 6 bytes, copied
// 16 bytes at a time except where fewer than 16 remain of an image's rows; over 12
// images laid out by two threads, an image's copies must not reach into the next one's.
TEST(Quantization, Conv2DWithShortPatchRowsEqualsTheNaiveConvolution) {
  auto int8 = quantized_same_conv(Shape{2, 40, 40}, 4, {11, 3}, 3);
  auto& layer = dynamic_cast<QuantizedConv2D&>(int8->layer(0));
  const Tensor x = Generator(9).uniform(Shape{12, 2, 40, 40}, -1, 2);
  const Tensor expected = naive_quantized_conv(layer, x, Window{.padding = "same"}.resolve(40, 40, {11, 3}));
  NoGrad no_grad;
  for (int repeat = 0; repeat < 20; ++repeat) {
    const Tensor y = layer(Variable(x)).value();
    ASSERT_LT(max_diff(y, expected), 1e-4 * (1 + max_abs(expected))) << "repeat " << repeat;
  }
}

// A kernel shallower than 64 (3 channels, 3x3: the first layer of an image network)
// runs in float32 on its dequantized kernel: the input is not rounded to 8 bits. Pooled
// in the same call, it equals the pool of its output.
TEST(Quantization, AShallowConv2DRunsInFloatOnItsDequantizedKernel) {
  auto int8 = quantized_same_conv(Shape{3, 11, 9}, 6, {3, 3}, 4);
  auto& layer = dynamic_cast<QuantizedConv2D&>(int8->layer(0));
  const Tensor x = Generator(12).uniform(Shape{4, 3, 11, 9}, -1, 2);
  const Geometry2D g = Window{.padding = "same"}.resolve(11, 9, {3, 3});
  NoGrad no_grad;
  const Tensor y = layer(Variable(x)).value();
  const Tensor in_float = naive_quantized_conv(layer, x, g, false), in_int8 = naive_quantized_conv(layer, x, g);
  EXPECT_LT(max_diff(y, in_float), 1e-5 * (1 + max_abs(in_float)));
  EXPECT_GT(max_diff(y, in_int8), 1e-3 * max_abs(in_int8)) << "the input was quantized";
  MaxPool2D pool(2);
  EXPECT_EQ(max_diff(layer.forward_max_pooled(Variable(x), pool).value(), pool(Variable(y)).value()), 0.0);
}

TEST(Quantization, AFusedMaxPoolEqualsThePoolOfTheConvolution) {
  auto int8 = std::dynamic_pointer_cast<Sequential>(quantize(*cnn("same", Size2(1, 1))));
  auto& conv = dynamic_cast<QuantizedConv2D&>(int8->layer(0));
  const Tensor x = Generator(8).uniform(Shape{5, 8, 11, 9}, -1, 2);
  NoGrad no_grad;
  const Variable plain = conv(Variable(x));
  // 2x2 (the 11-row plane's last row left out), and 3x3 windows at stride 2 over a
  // padded border, whose cells a max pool leaves out.
  MaxPool2D halving(2), padded(3, std::array<int64_t, 2>{2, 2}, "same");
  for (MaxPool2D* pool : {&halving, &padded}) {
    const Tensor fused = conv.forward_max_pooled(Variable(x), *pool).value();
    const Tensor expected = (*pool)(plain).value();
    ASSERT_EQ(fused.shape(), expected.shape());
    EXPECT_EQ(max_diff(fused, expected), 0.0);
  }
  // The model runs its first two layers as one (the planner fuses them): the same
  // outputs as the layers one by one.
  Variable y(x);
  for (size_t i = 0; i < int8->size(); ++i) y = int8->layer(i)(y);
  EXPECT_EQ(max_diff(predict_no_grad(*int8, x), y.value()), 0.0);
}

TEST(Quantization, QuantizedModelsStayCloseToTheFloatModel) {
  Generator gen(7);
  auto dense = mlp(50);
  const Tensor x = gen.uniform(Shape{200, 50}, 0, 1);
  const Tensor expected = predict_no_grad(*dense, x);
  const Tensor got = predict_no_grad(*quantize(*dense), x);
  EXPECT_LT(max_diff(got, expected), 0.01);  // softmax probabilities
  int same = 0;
  auto argmax = [](const Tensor& t, int64_t r) {
    const float* row = t.data<float>() + r * t.dim(1);
    return std::max_element(row, row + t.dim(1)) - row;
  };
  for (int64_t r = 0; r < 200; ++r) same += argmax(expected, r) == argmax(got, r);
  EXPECT_GE(same, 194);

  auto conv = cnn("same", 1);
  const Tensor images = gen.uniform(Shape{16, 8, 11, 9}, 0, 1);
  const Tensor conv_expected = predict_no_grad(*conv, images);
  EXPECT_LT(max_diff(predict_no_grad(*quantize(*conv), images), conv_expected), 0.03 * max_abs(conv_expected));
}

TEST(Quantization, FunctionalGraphsKeepTheirShapeAndNames) {
  auto input = Input(Shape{12}, "features");
  auto hidden = Dense(16, "relu")(input);
  auto out = Add()({Dense(8)(hidden), Dense(8)(input)});
  auto model = std::make_shared<Functional>(std::vector{input}, std::vector{out});
  auto int8 = quantize(*model);
  EXPECT_EQ(int8->named_parameters().size(), model->named_parameters().size() + 3);  // a scale per kernel
  Generator gen(8);
  const Tensor x = gen.uniform(Shape{5, 12}, -1, 1);
  EXPECT_LT(max_diff(predict_no_grad(*int8, x), predict_no_grad(*model, x)), 0.05);
}

TEST(Quantization, FilesRoundTripWithInt8Tensors) {
  auto int8 = quantize(*cnn("same", 1));
  save_model(*int8, temp("cnn.safetensors"));
  const SafetensorsFile file = load_safetensors(temp("cnn.safetensors"));
  EXPECT_EQ(file.at("layers.0.kernel").dtype(), DType::i8);
  EXPECT_EQ(file.at("layers.0.kernel_scale").dtype(), DType::f32);
  auto loaded = load_model(temp("cnn.safetensors"));
  Generator gen(9);
  const Tensor x = gen.uniform(Shape{4, 8, 11, 9}, 0, 1);
  EXPECT_EQ(max_diff(predict_no_grad(*loaded, x), predict_no_grad(*int8, x)), 0.0);
  EXPECT_NO_THROW(loaded->evaluate(x, gen.uniform(Shape{4, 4}, 0, 1), 2, 0));

  // A float tensor where the model holds int8 is refused, naming the tensor.
  std::vector<NamedTensor> tensors;
  for (const NamedTensor& t : file.tensors)
    tensors.push_back({t.name, t.name == "layers.0.kernel" ? t.tensor.to(DType::f32) : t.tensor});
  save_safetensors(temp("float_for_int8.safetensors"), tensors, file.metadata);
  EXPECT_NE(error_of([&] { load_model(temp("float_for_int8.safetensors")); }).find("'layers.0.kernel' is float32"),
            std::string::npos);
}

TEST(Quantization, ReplacedWeightsAreUsedAfterTheFirstCall) {
  auto int8 = quantize(*mlp(20));
  Generator gen(10);
  const Tensor x = gen.uniform(Shape{3, 20}, 0, 1);
  const Tensor before = predict_no_grad(*int8, x);
  std::vector<Tensor> weights = int8->get_weights();
  weights[0] = Tensor::zeros(weights[0].shape(), DType::i8);  // the first kernel
  int8->set_weights(weights);
  EXPECT_GT(max_diff(predict_no_grad(*int8, x), before), 1e-3);
}

TEST(Quantization, TrainingThroughAnInt8LayerIsRefused) {
  auto model = mlp(20);
  auto int8 = quantize(*model);
  // A trainable float layer before the int8 ones would get no gradient: refused.
  auto input = Input(Shape{20});
  auto trainable = Dense(20)(input);
  auto output = std::dynamic_pointer_cast<Sequential>(int8)->layer(0).shared_from_this();
  auto mixed = std::make_shared<Functional>(std::vector{input}, std::vector{(*output)(trainable)});
  mixed->compile(SGD(0.1), "mse");
  Generator gen(11);
  EXPECT_NE(error_of([&] {
              mixed->fit(gen.uniform(Shape{8, 20}, 0, 1), gen.uniform(Shape{8, 64}, 0, 1), {.verbose = 0});
            }).find("int8 layers compute no gradients"),
            std::string::npos);
}

}  // namespace
}  // namespace axon
