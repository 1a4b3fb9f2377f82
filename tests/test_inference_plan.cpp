// The compiled inference path of predict against the graph run on values (the path that
// trains): every layer kind the plan has a step for, the fallback for the rest, batch 1
// (GEMV) and larger, plans kept per shape, weights changed after a plan was built, and
// subclasses whose own call() must run. The GEMV kernel against a double-precision loop.
#include <gtest/gtest.h>

#include <cmath>

#include "axon/axon.h"
#include "kernels/gemv.h"

namespace axon {
namespace {

// The graph path: the model called on values, in inference mode without gradients.
Tensor reference(Model& model, const Tensor& x) {
  NoGrad no_grad;
  model.eval();
  Tensor y = model(Variable(x)).value();
  model.train();
  return y;
}

void expect_close(const Tensor& got, const Tensor& expected, double tolerance) {
  ASSERT_EQ(got.shape(), expected.shape());
  for (int64_t i = 0; i < got.numel(); ++i)
    ASSERT_NEAR(got.data<float>()[i], expected.data<float>()[i], tolerance * (1 + std::abs(expected.data<float>()[i])))
        << "element " << i;
}

TEST(InferencePlan, MlpMatchesTheGraphAtEveryBatchSize) {
  manual_seed(3);
  Sequential model(Shape{40});
  model.add(Dense(70, "relu"));
  model.add(Dropout(0.5));
  model.add(Dense(64, "tanh"));
  model.add(Dense(33, "linear", {.use_bias = false}));
  model.add(Dense(10, "softmax"));
  Generator gen(4);
  for (int64_t batch : {1, 2, 7, 64, 1}) {
    const Tensor x = gen.uniform(Shape{batch, 40}, -1, 1);
    expect_close(model.predict(x), reference(model, x), 1e-5);
  }
}

TEST(InferencePlan, CnnAndFunctionalGraphsMatch) {
  manual_seed(5);
  Sequential cnn(Shape{2, 9, 8});
  cnn.add(Conv2D(4, {3, 3}, "relu", {.padding = "same"}));
  cnn.add(MaxPool2D({2, 2}));
  cnn.add(BatchNormalization());
  cnn.add(Flatten());
  cnn.add(Dense(6, "sigmoid"));
  Generator gen(6);
  for (int64_t batch : {1, 5}) {
    const Tensor x = gen.uniform(Shape{batch, 2, 9, 8}, -1, 1);
    expect_close(cnn.predict(x), reference(cnn, x), 1e-5);
  }

  auto a = Input(Shape{12}, "a"), b = Input(Shape{5}, "b");
  auto h = Dense(16, "relu")(a);
  auto out = Dense(3)(Concatenate()({h, Dense(4, "relu")(b)}));
  Functional model({a, b}, {out, h});
  const Tensor xa = gen.uniform(Shape{3, 12}, -1, 1), xb = gen.uniform(Shape{3, 5}, -1, 1);
  const std::vector<Tensor> got = model.predict({xa, xb});
  NoGrad no_grad;
  model.eval();
  const std::vector<Variable> expected = model({Variable(xa), Variable(xb)});
  expect_close(got[0], expected[0].value(), 1e-5);
  expect_close(got[1], expected[1].value(), 1e-5);
}

TEST(InferencePlan, Int8LayersGiveTheLayersOwnResults) {
  manual_seed(7);
  Sequential model(Shape{30});
  model.add(Dense(20, "relu"));
  model.add(Dense(4, "softmax"));
  model.build(Shape{30});
  auto int8 = quantize(model);
  Generator gen(8);
  for (int64_t batch : {1, 9}) {
    const Tensor x = gen.uniform(Shape{batch, 30}, 0, 1);
    expect_close(int8->predict(x), reference(*int8, x), 0);
  }
}

TEST(InferencePlan, PlansFollowWeightChangesAndNewShapes) {
  manual_seed(9);
  Sequential model(Shape{16});
  model.add(Dense(8, "relu"));
  model.add(Dense(2));
  Generator gen(10);
  const Tensor x = gen.uniform(Shape{1, 16}, -1, 1);
  const Tensor before = model.predict(x);
  std::vector<Tensor> weights = model.get_weights();
  for (Tensor& w : weights) w = w.to(DType::f32);
  weights[0].data<float>()[0] += 1.0f;
  weights[3].data<float>()[1] = 5.0f;  // the last bias
  model.set_weights(weights);
  const Tensor after = model.predict(x);
  expect_close(after, reference(model, x), 1e-5);
  EXPECT_NE(after.data<float>()[1], before.data<float>()[1]);
  // Inputs of another example shape: the model is planned again for them, or refused.
  model.add(Dense(3));
  EXPECT_EQ(model.predict(x).dim(1), 3);
  EXPECT_THROW(model.predict(gen.uniform(Shape{2, 15}, -1, 1)), Error);
}

// A Sequential whose call() adds one: predict must run it, not the plan of its layers.
class PlusOne : public Sequential {
 public:
  using Sequential::Sequential;
  Variable call(const Variable& x) override { return Sequential::call(x) + 1.0; }
};

TEST(InferencePlan, SubclassesRunTheirOwnCall) {
  manual_seed(11);
  PlusOne model(Shape{4});
  model.add(Dense(2));
  Generator gen(12);
  const Tensor x = gen.uniform(Shape{3, 4}, -1, 1);
  expect_close(model.predict(x), reference(model, x), 1e-6);
}

TEST(Gemv, MatchesADoubleLoop) {
  Generator gen(13);
  for (auto [k, n] : {std::pair<int64_t, int64_t>{1, 1}, {3, 70}, {784, 256}, {5, 130}, {256, 128}, {128, 10}}) {
    const Tensor x = gen.uniform(Shape{k}, -1, 1), w = gen.uniform(Shape{k, n}, -1, 1),
                 b = gen.uniform(Shape{n}, -1, 1);
    for (bool relu : {false, true})
      for (bool bias : {false, true}) {
        Tensor y = Tensor::empty(Shape{n});
        kernels::gemv_bias_act(x.data<float>(), w.data<float>(), k, n, bias ? b.data<float>() : nullptr, relu,
                               y.data<float>());
        for (int64_t j = 0; j < n; ++j) {
          double sum = bias ? b.data<float>()[j] : 0.0;
          for (int64_t i = 0; i < k; ++i) sum += double{x.data<float>()[i]} * w.data<float>()[i * n + j];
          if (relu) sum = std::max(sum, 0.0);
          ASSERT_NEAR(y.data<float>()[j], sum, 1e-5 * (1 + std::sqrt(static_cast<double>(k)))) << k << "x" << n;
        }
      }
  }
}

TEST(Gemv, AFewRowsMatchADoubleLoopAndEachRowAlone) {
  Generator gen(14);
  for (auto [k, n] : {std::pair<int64_t, int64_t>{3, 70}, {784, 256}, {5, 130}, {128, 10}, {64, 64}})
    for (int64_t m = 3; m <= kernels::kFewRows; m += 1 + m / 4) {
      const Tensor x = gen.uniform(Shape{m, k}, -1, 1), w = gen.uniform(Shape{k, n}, -1, 1),
                   b = gen.uniform(Shape{n}, -1, 1);
      for (bool relu : {false, true}) {
        Tensor y = Tensor::empty(Shape{m, n}), row = Tensor::empty(Shape{n});
        if (!kernels::few_rows_bias_act(m, x.data<float>(), w.data<float>(), k, n, b.data<float>(), relu,
                                        y.data<float>()))
          GTEST_SKIP() << "no AVX-512 on this CPU";
        for (int64_t r = 0; r < m; ++r) {
          const float* xr = x.data<float>() + r * k;
          kernels::gemv_bias_act(xr, w.data<float>(), k, n, b.data<float>(), relu, row.data<float>());
          for (int64_t j = 0; j < n; ++j) {
            double sum = b.data<float>()[j];
            for (int64_t i = 0; i < k; ++i) sum += double{xr[i]} * w.data<float>()[i * n + j];
            if (relu) sum = std::max(sum, 0.0);
            const float got = y.data<float>()[r * n + j];
            ASSERT_NEAR(got, sum, 1e-5 * (1 + std::sqrt(static_cast<double>(k)))) << m << "x" << k << "x" << n;
            ASSERT_EQ(got, row.data<float>()[j]) << "row " << r << " of " << m << ", column " << j;
          }
        }
      }
    }
}

}  // namespace
}  // namespace axon
