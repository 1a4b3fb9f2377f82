// The gradient-check table: every differentiable op against float64 central
// differences (eps 1e-6, atol 1e-5, rtol 1e-3, as torch.autograd.gradcheck), on
// broadcast shapes too. The table must cover every op in registered_ops().
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <set>
#include <string>

#include "axon/axon.h"

namespace axon {
namespace {

constexpr Geometry2D kPadOne{.pad_top = 1, .pad_bottom = 1, .pad_left = 1, .pad_right = 1};
constexpr Geometry2D kHalving{.stride_h = 2, .stride_w = 2};

enum class Domain { any, positive, away_from_zero };

struct GradCase {
  std::string label;  // unique per entry
  std::string op;     // the registered op the output must come from
  std::vector<Shape> shapes;
  std::function<Variable(const std::vector<Variable>&)> fn;
  std::vector<Domain> domains = {};  // per input; default any
};

void PrintTo(const GradCase& c, std::ostream* out) { *out << c.label; }

Tensor labels3() { return Tensor::from(std::vector<double>{2, 0, 1}, {3}); }

const std::vector<GradCase>& table() {
  using V = std::vector<Variable>;
  static const std::vector<GradCase> cases = {
      {"add", "add", {{3, 4}, {3, 4}}, [](const V& v) { return v[0] + v[1]; }},
      {"add/broadcast row", "add", {{3, 4}, {4}}, [](const V& v) { return v[0] + v[1]; }},
      {"add/broadcast both", "add", {{2, 1, 3}, {4, 1}}, [](const V& v) { return add(v[0], v[1]); }},
      {"add/scalar", "add", {{3, 2}, {}}, [](const V& v) { return v[0] + v[1]; }},
      {"sub", "sub", {{3, 4}, {3, 4}}, [](const V& v) { return v[0] - v[1]; }},
      {"sub/broadcast", "sub", {{3, 1}, {2, 1, 4}}, [](const V& v) { return sub(v[0], v[1]); }},
      {"mul", "mul", {{3, 4}, {3, 4}}, [](const V& v) { return v[0] * v[1]; }},
      {"mul/broadcast", "mul", {{2, 3, 4}, {3, 1}}, [](const V& v) { return mul(v[0], v[1]); }},
      {"div", "div", {{3, 4}, {3, 4}}, [](const V& v) { return v[0] / v[1]; }, {Domain::any, Domain::positive}},
      {"div/broadcast",
       "div",
       {{4}, {3, 1}},
       [](const V& v) { return div(v[0], v[1]); },
       {Domain::any, Domain::positive}},
      {"pow", "pow", {{3, 4}, {3, 4}}, [](const V& v) { return pow(v[0], v[1]); }, {Domain::positive, Domain::any}},
      {"pow/broadcast",
       "pow",
       {{2, 3}, {3}},
       [](const V& v) { return pow(v[0], v[1]); },
       {Domain::positive, Domain::any}},
      {"pow_scalar", "pow_scalar", {{3, 4}}, [](const V& v) { return pow(v[0], 2.5); }, {Domain::positive}},
      {"neg", "neg", {{3, 4}}, [](const V& v) { return -v[0]; }},
      {"exp", "exp", {{3, 4}}, [](const V& v) { return exp(v[0]); }},
      {"log", "log", {{3, 4}}, [](const V& v) { return log(v[0]); }, {Domain::positive}},
      {"sqrt", "sqrt", {{3, 4}}, [](const V& v) { return sqrt(v[0]); }, {Domain::positive}},
      {"abs", "abs", {{3, 4}}, [](const V& v) { return abs(v[0]); }, {Domain::away_from_zero}},
      {"square", "square", {{3, 4}}, [](const V& v) { return square(v[0]); }},
      {"clamp", "clamp", {{4, 5}}, [](const V& v) { return clamp(v[0], -0.45, 0.55); }},
      {"relu", "relu", {{3, 4}}, [](const V& v) { return relu(v[0]); }, {Domain::away_from_zero}},
      {"leaky_relu",
       "leaky_relu",
       {{3, 4}},
       [](const V& v) { return leaky_relu(v[0], 0.1); },
       {Domain::away_from_zero}},
      {"elu", "elu", {{3, 4}}, [](const V& v) { return elu(v[0], 1.3); }, {Domain::away_from_zero}},
      {"gelu", "gelu", {{3, 4}}, [](const V& v) { return gelu(v[0]); }},
      {"silu", "silu", {{3, 4}}, [](const V& v) { return silu(v[0]); }},
      {"sigmoid", "sigmoid", {{3, 4}}, [](const V& v) { return sigmoid(v[0]); }},
      {"tanh", "tanh", {{3, 4}}, [](const V& v) { return tanh(v[0]); }},
      {"sum", "sum", {{3, 4}}, [](const V& v) { return sum(v[0]); }},
      {"sum_axis", "sum_axis", {{2, 3, 4}}, [](const V& v) { return sum(v[0], 1); }},
      {"sum_axis/keepdim", "sum_axis", {{2, 3, 4}}, [](const V& v) { return sum(v[0], -1, true); }},
      {"mean", "mean", {{3, 4}}, [](const V& v) { return mean(v[0]); }},
      {"mean_axis", "mean_axis", {{2, 3, 4}}, [](const V& v) { return mean(v[0], 0); }},
      {"mean_axis/keepdim", "mean_axis", {{2, 3, 4}}, [](const V& v) { return mean(v[0], 2, true); }},
      {"matmul", "matmul", {{3, 4}, {4, 5}}, [](const V& v) { return matmul(v[0], v[1]); }},
      {"linear", "linear", {{3, 4}, {4, 5}, {5}}, [](const V& v) { return linear(v[0], v[1], v[2]); }},
      {"linear/3d no bias", "linear", {{2, 3, 4}, {4, 2}}, [](const V& v) { return linear(v[0], v[1], Variable()); }},
      {"linear/relu", "linear", {{2, 3, 4}, {4, 5}, {5}}, [](const V& v) { return linear(v[0], v[1], v[2], true); }},
      {"softmax", "softmax", {{3, 5}}, [](const V& v) { return softmax(v[0]); }},
      {"softmax/axis 0", "softmax_axis", {{3, 2, 4}}, [](const V& v) { return softmax(v[0], 0); }},
      {"log_softmax", "log_softmax", {{3, 5}}, [](const V& v) { return log_softmax(v[0]); }},
      {"log_softmax/axis 1", "log_softmax", {{2, 3, 4}}, [](const V& v) { return log_softmax(v[0], 1); }},
      {"softmax_cross_entropy",
       "softmax_cross_entropy",
       {{3, 4}},
       [](const V& v) { return softmax_cross_entropy(v[0], labels3()); }},
      {"reshape",
       "reshape",
       {{3, 4}},
       [](const V& v) {
         return reshape(v[0], {2, -1});
       }},
      {"reshape/flatten", "reshape", {{2, 3, 2}}, [](const V& v) { return flatten(v[0]); }},
      {"transpose", "transpose", {{3, 4}}, [](const V& v) { return transpose(v[0]); }},
      {"transpose/3d", "transpose", {{2, 3, 4}}, [](const V& v) { return transpose(v[0], 0, 2); }},
      {"concat",
       "concat",
       {{2, 3}, {2, 1}, {2, 2}},
       [](const V& v) {
         return concat({v[0], v[1], v[2]}, 1);
       }},
      {"concat/axis 0",
       "concat",
       {{1, 3}, {2, 3}},
       [](const V& v) {
         return concat({v[0], v[1]}, 0);
       }},
      {"slice", "slice", {{4, 5}}, [](const V& v) { return slice(v[0], 1, 1, 4); }},
      {"index_select",
       "index_select",
       {{4, 3}},
       [](const V& v) {
         return index_select(v[0], 0, {3, 0, 3, 1});
       }},
      {"index_select/axis 1",
       "index_select",
       {{2, 4}},
       [](const V& v) {
         return index_select(v[0], 1, {2, 2});
       }},
      {"conv2d", "conv2d", {{2, 3, 5, 4}, {4, 3, 3, 2}, {4}}, [](const V& v) { return conv2d(v[0], v[1], v[2]); }},
      {"conv2d/stride pad dilation",
       "conv2d",
       {{1, 2, 6, 7}, {3, 2, 2, 3}},
       [](const V& v) {
         return conv2d(v[0], v[1], Variable(),
                       {.stride_h = 2,
                        .stride_w = 1,
                        .pad_top = 1,
                        .pad_bottom = 0,
                        .pad_left = 2,
                        .pad_right = 1,
                        .dilation_h = 2,
                        .dilation_w = 1});
       }},
      {"batch_norm",
       "batch_norm",
       {{4, 3, 2, 3}, {3}, {3}},
       [](const V& v) { return batch_norm(v[0], v[1], v[2], Tensor(), Tensor(), 1e-3); }},
      {"batch_norm/2-D no beta",
       "batch_norm",
       {{6, 2}, {2}},
       [](const V& v) { return batch_norm(v[0], v[1], Variable(), Tensor(), Tensor(), 1e-3); }},
      {"batch_norm/moving statistics",
       "batch_norm",
       {{3, 2, 4}, {2}, {2}},
       [](const V& v) {
         const Tensor mean = Tensor::from(std::vector<double>{0.5, -1}, {2}),
                      variance = Tensor::from(std::vector<double>{2, 0.25}, {2});
         return batch_norm(v[0], v[1], v[2], mean, variance, 1e-3);
       }},
      {"conv2d_max_pool2d",
       "conv2d_max_pool2d",
       {{2, 2, 6, 5}, {3, 2, 3, 3}, {3}},
       [](const V& v) { return conv2d_max_pool2d(v[0], v[1], v[2], kPadOne, true, 2, kHalving); }},
      {"conv2d_max_pool2d/overlap pad",
       "conv2d_max_pool2d",
       {{1, 2, 7, 6}, {2, 2, 2, 3}},
       [](const V& v) {
         return conv2d_max_pool2d(
             v[0], v[1], Variable(), {.stride_h = 1, .stride_w = 2}, false, {3, 2},
             {.stride_h = 2, .stride_w = 1, .pad_top = 1, .pad_bottom = 1, .pad_left = 0, .pad_right = 1});
       }},
      {"conv2d/relu",
       "conv2d",
       {{2, 2, 5, 5}, {3, 2, 3, 3}, {3}},
       [](const V& v) { return conv2d(v[0], v[1], v[2], kPadOne, true); }},
      {"max_pool2d", "max_pool2d", {{2, 2, 4, 5}}, [](const V& v) { return max_pool2d(v[0], 2, kHalving); }},
      {"max_pool2d/overlap pad",
       "max_pool2d",
       {{1, 2, 5, 5}},
       [](const V& v) {
         return max_pool2d(
             v[0], 3, {.stride_h = 2, .stride_w = 2, .pad_top = 1, .pad_bottom = 1, .pad_left = 1, .pad_right = 1});
       }},
      {"avg_pool2d", "avg_pool2d", {{2, 2, 4, 4}}, [](const V& v) { return avg_pool2d(v[0], 2, kHalving); }},
      {"max_axis", "max_axis", {{3, 4, 2}}, [](const V& v) { return max(v[0], 1); }},
      {"max_axis/keepdim", "max_axis", {{2, 5}}, [](const V& v) { return max(v[0], -1, true); }},
      {"lstm_sequence",
       "lstm_sequence",
       {{2, 3, 8}, {2, 8}, {2, 2}, {2, 2}},
       [](const V& v) { return lstm_sequence(v[0], v[1], v[2], v[3]); }},
      {"lstm_sequence/reverse",
       "lstm_sequence",
       {{3, 4, 12}, {3, 12}, {3, 3}, {3, 3}},
       [](const V& v) { return lstm_sequence(v[0], v[1], v[2], v[3], true); }},
      {"lstm_sequence/masked",
       "lstm_sequence",
       {{2, 4, 8}, {2, 8}, {2, 2}, {2, 2}},
       [](const V& v) {
         const Tensor mask = Tensor::from(std::vector<float>{1, 0, 1, 0, 0, 1, 1, 0}, {2, 4});
         return lstm_sequence(v[0], v[1], v[2], v[3], false, mask);
       }},
      {"lstm_sequence/recurrent dropout",
       "lstm_sequence",
       {{2, 3, 8}, {2, 8}, {2, 2}, {2, 2}},
       [](const V& v) {
         const Tensor keep = Tensor::from(std::vector<double>{2, 0, 0, 2}, {2, 2});  // rate 0.5
         return lstm_sequence(v[0], v[1], v[2], v[3], true, Tensor(), keep);
       }},
      {"gru_sequence",
       "gru_sequence",
       {{2, 3, 6}, {2, 6}, {2, 2}, {6}},
       [](const V& v) { return gru_sequence(v[0], v[1], v[3], v[2]); }},
      {"gru_sequence/reverse masked dropout no bias",
       "gru_sequence",
       {{2, 4, 9}, {3, 9}, {2, 3}},
       [](const V& v) {
         const Tensor mask = Tensor::from(std::vector<float>{1, 0, 1, 1, 0, 1, 1, 0}, {2, 4});
         const Tensor keep = Tensor::from(std::vector<double>{2, 0, 2, 0, 2, 2}, {2, 3});
         return gru_sequence(v[0], v[1], Variable(), v[2], true, mask, keep);
       }},
      {"matmul/batched", "matmul", {{2, 3, 4}, {2, 4, 2}}, [](const V& v) { return matmul(v[0], v[1]); }},
      {"matmul/shared", "matmul", {{2, 3, 4}, {4, 2}}, [](const V& v) { return matmul(v[0], v[1]); }},
      {"concat/stack", "concat", {{2, 3}, {2, 3}}, [](const V& v) { return stack({v[0], v[1]}, 1); }},
      {"slice/split", "slice", {{2, 5}}, [](const V& v) { return split(v[0], {2, 3}, 1)[1]; }},
      {"permute", "permute", {{2, 3, 4}}, [](const V& v) { return permute(v[0], {2, 0, 1}); }},
      {"layer_norm",
       "layer_norm",
       {{3, 2, 5}, {5}, {5}},
       [](const V& v) { return layer_norm(v[0], v[1], v[2], 1e-3); }},
      {"attention", "attention", {{2, 3, 2, 3}, {2, 4, 2, 3}, {2, 4, 2, 2}}, [](const V& v) {
         return attention(v[0], v[1], v[2]);
       }},
      {"attention/plain", "attention", {{2, 3, 2, 3}, {2, 4, 2, 3}, {2, 4, 2, 2}}, [](const V& v) {
         return attention(v[0], v[1], v[2], {.plain = true});
       }},
      {"attention/causal blocks",
       "attention",
       {{1, 5, 2, 2}, {1, 5, 2, 2}, {1, 5, 2, 3}},
       [](const V& v) { return attention(v[0], v[1], v[2], {.scale = 0.7, .causal = true, .block = 2}); }},
      {"attention/masked dropout",
       "attention",
       {{2, 4, 1, 2}, {2, 5, 1, 2}, {2, 5, 1, 2}},
       [](const V& v) {
         const Tensor mask = Tensor::from(std::vector<double>{1, 1, 0, 1, 0, 0, 0, 0, 0, 0}, {2, 5});
         return attention(v[0], v[1], v[2], {.key_mask = mask, .dropout = 0.3, .seed = 7, .block = 2});
       }},
      {"avg_pool2d/pad",
       "avg_pool2d",
       {{1, 1, 5, 4}},
       [](const V& v) {
         return avg_pool2d(
             v[0], {3, 2},
             {.stride_h = 2, .stride_w = 1, .pad_top = 1, .pad_bottom = 1, .pad_left = 0, .pad_right = 1});
       }},
  };
  return cases;
}

Tensor sample(const Shape& shape, Domain domain, Generator& gen) {
  Tensor t = gen.uniform(shape, -1.0, 1.0, DType::f64);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (domain == Domain::positive) p[i] = 0.5 + 0.75 * (p[i] + 1.0);  // [0.5, 2)
    if (domain == Domain::away_from_zero) p[i] = (p[i] < 0 ? -1 : 1) * (0.2 + 0.8 * std::abs(p[i]));
  }
  return t;
}

// sum(f(inputs) * weights) evaluated without a graph.
double weighted_output(const GradCase& c, const std::vector<Tensor>& inputs, const Tensor& weights) {
  NoGrad no_grad;
  std::vector<Variable> vars;
  for (const Tensor& t : inputs) vars.emplace_back(t);
  const std::vector<double> out = c.fn(vars).value().to_vector(), w = weights.to_vector();
  double total = 0;
  for (size_t i = 0; i < out.size(); ++i) total += out[i] * w[i];
  return total;
}

class GradCheck : public ::testing::TestWithParam<GradCase> {};

TEST_P(GradCheck, MatchesCentralDifferences) {
  const GradCase& c = GetParam();
  Generator gen(1234);
  std::vector<Tensor> inputs;
  std::vector<Variable> vars;
  for (size_t i = 0; i < c.shapes.size(); ++i) {
    inputs.push_back(sample(c.shapes[i], i < c.domains.size() ? c.domains[i] : Domain::any, gen));
    vars.emplace_back(inputs.back(), true);
  }
  Variable out = c.fn(vars);
  ASSERT_EQ(std::string(out.op()), c.op) << "entry '" << c.label << "' does not exercise op " << c.op;
  const Tensor weights = gen.uniform(out.shape(), -1.0, 1.0, DType::f64);
  out.backward(weights);

  constexpr double eps = 1e-6, atol = 1e-5, rtol = 1e-3;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_TRUE(vars[i].grad().defined()) << c.label << ": input " << i << " got no gradient";
    ASSERT_EQ(vars[i].grad().shape(), inputs[i].shape());
    for (int64_t k = 0; k < inputs[i].numel(); ++k) {
      std::vector<Tensor> plus, minus;
      for (const Tensor& t : inputs) {
        plus.push_back(t.clone());
        minus.push_back(t.clone());
      }
      plus[i].data<double>()[k] += eps;
      minus[i].data<double>()[k] -= eps;
      const double numeric = (weighted_output(c, plus, weights) - weighted_output(c, minus, weights)) / (2 * eps);
      const double analytic = vars[i].grad().data<double>()[k];
      EXPECT_NEAR(analytic, numeric, atol + rtol * std::abs(numeric)) << c.label << ": input " << i << " element " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, GradCheck, ::testing::ValuesIn(table()), [](const auto& info) {
  std::string name = info.param.label;
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
});

TEST(GradCheckTable, CoversEveryRegisteredOp) {
  std::set<std::string> covered;
  for (const GradCase& c : table()) covered.insert(c.op);
  for (const char* op : registered_ops())
    EXPECT_TRUE(covered.contains(op)) << "op '" << op << "' has no gradient-check entry";
}

TEST(GradCheckTable, LabelsAreUnique) {
  std::set<std::string> labels;
  for (const GradCase& c : table()) EXPECT_TRUE(labels.insert(c.label).second) << c.label;
}

}  // namespace
}  // namespace axon
