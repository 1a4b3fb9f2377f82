// The autograd engine: accumulation, graph shapes, depth, NoGrad and misuse.
#include <gtest/gtest.h>

#include <cmath>

#include "axon/axon.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

Variable param(std::vector<double> values, Shape shape) { return Variable(Tensor::from(values, shape), true); }

TEST(Autograd, SharedInputGetsTheSumOfItsPaths) {
  Variable x = param({3.0}, {});
  Variable y = x * x + x * 2.0 + exp(x * 0.0);  // dy/dx = 2x + 2 = 8
  y.backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 8.0);
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCallsUntilZeroGrad) {
  Variable x = param({1.0, 2.0}, {2});
  sum(x * x).backward();
  sum(x * 3.0).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2 + 3, 4 + 3}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  sum(x).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{1, 1}));
}

TEST(Autograd, TenThousandOpChainDoesNotOverflowTheStack) {
  Variable x = param({0.5}, {});
  Variable y = x;
  for (int i = 0; i < 10000; ++i) y = y * 1.0001 + 0.0;  // 20,000 ops
  y.backward();
  EXPECT_NEAR(x.grad().item(), std::pow(1.0001, 10000), 1e-9);
}

TEST(Autograd, DestroyingAHundredThousandOpGraphDoesNotOverflowTheStack) {
  Variable x = param({1.0}, {});
  {
    Variable y = x;
    for (int i = 0; i < 100000; ++i) y = y + 1.0;
  }  // the whole chain is freed here, without backward
  SUCCEED();
}

TEST(Autograd, DiamondGraphVisitsEachNodeOnce) {
  Variable x = param({2.0}, {});
  Variable a = x * 3.0;
  Variable b = a + a;  // 6x
  Variable c = b * a;  // 6x * 3x = 18 x^2 -> 36 x = 72
  c.backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 72.0);
}

TEST(Autograd, NoGradRecordsNothing) {
  Variable x = param({1.0, 2.0}, {2});
  {
    NoGrad no_grad;
    EXPECT_FALSE(grad_enabled());
    Variable y = sum(x * x);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_THROW(y.backward(), Error);
    { NoGrad nested; }
    EXPECT_FALSE(grad_enabled());
  }
  EXPECT_TRUE(grad_enabled());
  EXPECT_TRUE(sum(x * x).requires_grad());
}

TEST(Autograd, ConstantsGetNoGradient) {
  Variable x = param({1.0, 2.0}, {2});
  Variable c(Tensor::from(std::vector<double>{5, 6}, {2}));
  sum(x * c).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{5, 6}));
  EXPECT_FALSE(c.grad().defined());
  EXPECT_FALSE(sum(c * c).requires_grad());
}

TEST(Autograd, DetachCutsTheGraph) {
  Variable x = param({3.0}, {});
  Variable y = x * x.detach();  // d/dx treats the second factor as constant: 3
  y.backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 3.0);
}

TEST(Autograd, BackwardFromANonScalarNeedsAGradOutput) {
  Variable x = param({1, 2, 3}, {3});
  Variable y = x * 2.0;
  EXPECT_THROW(y.backward(), Error);
  EXPECT_THROW(y.backward(Tensor::ones({2}, DType::f64)), Error);
  y.backward(Tensor::from(std::vector<double>{1, 0, -1}, {3}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2, 0, -2}));
}

TEST(Autograd, SecondBackwardThroughASpentGraphIsAnError) {
  Variable x = param({1.0}, {});
  Variable y = exp(x) * 2.0;
  y.backward();
  EXPECT_NE(error_of([&] { y.backward(); }).find("already used"), std::string::npos);
}

TEST(Autograd, OpsNameShapesInErrors) {
  Variable a(Tensor::zeros({32, 784})), b(Tensor::zeros({100, 10}));
  EXPECT_EQ(error_of([&] { matmul(a, b); }), "matmul: (32, 784) x (100, 10): inner dimensions differ");
  EXPECT_THROW(add(Variable(Tensor::zeros({2, 3})), Variable(Tensor::zeros({3, 2}))), Error);
  EXPECT_THROW(add(Variable(Tensor::zeros({2})), Variable(Tensor::zeros({2}, DType::f64))), Error);
  EXPECT_THROW(linear(a, Variable(Tensor::zeros({10, 5})), Variable()), Error);
  EXPECT_THROW(linear(Variable(Tensor::zeros({2, 10})), Variable(Tensor::zeros({10, 5})), Variable(Tensor::zeros({4}))),
               Error);
  EXPECT_THROW(sum(a, 2), Error);
  EXPECT_THROW(mean(Variable(Tensor::zeros({0}))), Error);
  EXPECT_THROW(clamp(a, 1, 0), Error);
  EXPECT_THROW(slice(a, 0, 10, 40), Error);
  EXPECT_THROW(reshape(a, {5, -1}), Error);
  EXPECT_THROW(Variable{Tensor()}, Error);
  EXPECT_THROW(Variable().value(), Error);
}

TEST(Autograd, SoftmaxCrossEntropyValidatesLabels) {
  Variable logits(Tensor::zeros({2, 3}), true);
  EXPECT_THROW(softmax_cross_entropy(logits, Tensor::from(std::vector<float>{0, 3}, {2})), Error);
  EXPECT_THROW(softmax_cross_entropy(logits, Tensor::from(std::vector<float>{0, 1.5f}, {2})), Error);
  EXPECT_THROW(softmax_cross_entropy(logits, Tensor::from(std::vector<float>{0, 1, 2}, {3})), Error);
  // Uniform logits: loss = log(3) exactly.
  EXPECT_NEAR(softmax_cross_entropy(logits, Tensor::from(std::vector<float>{0, 2}, {2})).item(), std::log(3.0), 1e-6);
}

TEST(Autograd, FusedLinearMatchesMatmulPlusBias) {
  Generator gen(3);
  Variable x(gen.uniform({5, 4}, -1, 1, DType::f64), true), w(gen.uniform({4, 3}, -1, 1, DType::f64), true),
      b(gen.uniform({3}, -1, 1, DType::f64), true);
  const Tensor g = gen.uniform({5, 3}, -1, 1, DType::f64);
  linear(x, w, b).backward(g);
  const Tensor gx = x.grad(), gw = w.grad(), gb = b.grad();
  x.zero_grad();
  w.zero_grad();
  b.zero_grad();
  Variable reference = matmul(x, w) + b;
  EXPECT_TRUE(linear(x, w, b).value().allclose(reference.value(), 1e-12, 1e-12));
  reference.backward(g);
  EXPECT_TRUE(gx.allclose(x.grad(), 1e-12, 1e-12));
  EXPECT_TRUE(gw.allclose(w.grad(), 1e-12, 1e-12));
  EXPECT_TRUE(gb.allclose(b.grad(), 1e-12, 1e-12));
}

TEST(Autograd, EveryRegisteredOpIsKnownAndUnknownOpsAreRejected) {
  EXPECT_THROW(Variable::make("no_such_op", Tensor::zeros({1}), {}, nullptr), Error);
  EXPECT_GE(registered_ops().size(), 30u);
}

TEST(Autograd, StackAndSplitAreNumpys) {
  const Variable a(Tensor::from(std::vector<float>{1, 2, 3}, Shape{3})), b(Tensor::from(std::vector<float>{4, 5, 6}, Shape{3}));
  EXPECT_EQ(stack({a, b}).value().to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  const Variable columns = stack({a, b}, -1);
  EXPECT_EQ(columns.shape(), (Shape{3, 2}));
  EXPECT_EQ(columns.value().to_vector(), (std::vector<double>{1, 4, 2, 5, 3, 6}));
  const std::vector<Variable> pieces = split(columns, {1, 2}, 0);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[1].value().to_vector(), (std::vector<double>{2, 5, 3, 6}));
  EXPECT_THROW(split(columns, {1, 1}, 0), Error);
  EXPECT_THROW(stack({a, columns}), Error);
}

}  // namespace
}  // namespace axon
