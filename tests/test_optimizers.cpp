// Optimizers against PyTorch: each rule runs 4 steps on loss = sum(k * (w - c)^2) and
// must follow torch.optim's trajectory. Golden values come from
// tests/golden/optimizers_and_losses.py (torch, float64); every hyperparameter is
// passed explicitly on both sides.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "axon/axon.h"
#include "error_of.h"

namespace {

using axon::DType;
using axon::Tensor;
using axon::Variable;
using Trajectory = std::vector<std::vector<double>>;  // the parameter after each step

const std::vector<double> kStart = {0.5, -1.2, 2.0};
const std::vector<double> kCenter = {1.0, 0.3, -0.7};
const std::vector<double> kScale = {0.5, 2.0, 3.0};  // distinct gradients per element

void expect_close(const std::vector<double>& actual, const std::vector<double>& expected, double rtol,
                  const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_LE(std::abs(actual[i] - expected[i]), rtol * std::abs(expected[i]) + 1e-300)
        << what << " element " << i << ": got " << actual[i] << ", torch " << expected[i];
}

// Runs the optimizer on the toy problem and compares w after every step.
void expect_trajectory(axon::Optimizer& optimizer, const Trajectory& golden, DType dtype = DType::f64,
                       double rtol = 1e-10) {
  Variable w(Tensor::from(kStart, {3}).to(dtype), true);
  const Variable c(Tensor::from(kCenter, {3}).to(dtype));
  const Variable k(Tensor::from(kScale, {3}).to(dtype));
  optimizer.set_parameters({w});
  for (size_t step = 0; step < golden.size(); ++step) {
    Variable loss = axon::sum(k * axon::square(w - c));
    loss.backward();
    optimizer.step();
    optimizer.zero_grad();
    expect_close(w.value().to_vector(), golden[step], rtol, optimizer.name() + " step " + std::to_string(step + 1));
  }
  EXPECT_EQ(optimizer.step_count(), static_cast<int64_t>(golden.size()));
}

// Expects `body` to throw axon::Error whose message contains `needle`.
template <class F>
void expect_error_naming(F&& body, const std::string& needle) {
  const std::string message = axon::test_support::error_of(body);
  EXPECT_NE(message.find(needle), std::string::npos) << "message: " << message;
}

// torch.optim.Adam(lr=0.1, betas=(0.8, 0.95), eps=1e-3)
const Trajectory kAdamGolden = {{0.59980039920159678, -1.1000166638893518, 1.9000061724584902},
                                {0.69802644899310229, -1.0003880507082605, 1.8001915539796021},
                                {0.7930202891346394, -0.90138388317892892, 1.7006830906229542},
                                {0.88247037494516667, -0.8032993446927823, 1.601612063390405}};

}  // namespace

TEST(Optimizer, SgdMatchesTorch) {
  axon::SGD sgd(0.1, 0.0, false);
  expect_trajectory(sgd, {{0.55000000000000004, -0.59999999999999987, 0.37999999999999962},
                          {0.59500000000000008, -0.23999999999999988, -0.26800000000000018},
                          {0.63550000000000006, -0.023999999999999942, -0.52720000000000011},
                          {0.67195000000000005, 0.10560000000000004, -0.63088}});
}

TEST(Optimizer, SgdMomentumMatchesTorch) {
  axon::SGD sgd(0.05, 0.9, false);
  expect_trajectory(sgd, {{0.52500000000000002, -0.89999999999999991, 1.1899999999999997},
                          {0.57125000000000004, -0.3899999999999999, -0.10600000000000043},
                          {0.63431250000000006, 0.2070000000000001, -1.4506000000000006},
                          {0.70935312500000003, 0.76290000000000013, -2.4355600000000006}});
}

TEST(Optimizer, SgdNesterovMatchesTorch) {
  axon::SGD sgd(0.05, 0.9, true);
  expect_trajectory(sgd, {{0.54749999999999999, -0.62999999999999989, 0.46099999999999969},
                          {0.61073750000000004, -0.033599999999999818, -0.85687000000000035},
                          {0.68426868750000003, 0.46252800000000027, -1.6400671000000002},
                          {0.76292441843750003, 0.78723456000000025, -1.8514611430000001}});
}

TEST(Optimizer, AdamMatchesTorch) {
  axon::Adam adam(0.1, 0.8, 0.95, 1e-3);  // a large epsilon, so its placement matters
  expect_trajectory(adam, kAdamGolden);
}

TEST(Optimizer, AdamFloat32MatchesTorch) {
  axon::Adam adam(0.1, 0.8, 0.95, 1e-3);
  expect_trajectory(adam, kAdamGolden, DType::f32, 1e-6);
}

TEST(Optimizer, AdamWMatchesTorch) {
  axon::AdamW adamw(0.1, 0.05, 0.85, 0.99, 1e-8);
  expect_trajectory(adamw, {{0.59749999799999998, -1.0940000001666665, 1.8900000000617283},
                            {0.69311604451645992, -0.98887547308400914, 1.7807297492227478},
                            {0.78540435711866519, -0.88488660707287581, 1.6723138394290946},
                            {0.87240809079699611, -0.78231909445979697, 1.5648819520590127}});
}

TEST(Optimizer, RmspropMatchesTorch) {
  axon::RMSprop rmsprop(0.05, 0.8, 0.0, 1e-2);
  expect_trajectory(rmsprop, {{0.60701743374247441, -1.0886117207322428, 1.8883507093987291},
                              {0.67814646856578942, -1.0084387050733445, 1.806688974985788},
                              {0.73397378067257835, -0.94109612218585947, 1.7373552243552961},
                              {0.78050542912647047, -0.88094654439359821, 1.6748715599723938}});
}

TEST(Optimizer, RmspropMomentumMatchesTorch) {
  axon::RMSprop rmsprop(0.05, 0.8, 0.7, 1e-2);
  expect_trajectory(rmsprop, {{0.60701743374247441, -1.0886117207322428, 1.8883507093987291},
                              {0.75305867218552158, -0.9304669095859146, 1.7285344715648985},
                              {0.90059806404421439, -0.75506061320809836, 1.5486831234417084},
                              {1.0238392766930315, -0.57806572500095599, 1.3632414269471287}});
}

TEST(Optimizer, AdagradMatchesTorch) {
  axon::Adagrad adagrad(0.3, 0.2, 1e-2);
  expect_trajectory(adagrad, {{0.72032242495552468, -0.90132628961202232, 1.7002991766042224},
                              {0.83419964678488923, -0.71435094326761273, 1.5011104298885543},
                              {0.90004054338983175, -0.57465960207824973, 1.3451039133137397},
                              {0.93938789040882509, -0.46288807885712685, 1.214594891582274}});
}

TEST(Optimizer, RejectsBadHyperparameters) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  expect_error_naming([&] { (void)axon::SGD(nan); }, "learning_rate");
  expect_error_naming([&] { axon::SGD(-0.1); }, "learning_rate");
  expect_error_naming([&] { (void)axon::Adam(inf); }, "learning_rate");
  expect_error_naming([&] { axon::SGD(0.1, 1.5); }, "momentum");
  expect_error_naming([&] { axon::SGD(0.1, 0.0, true); }, "nesterov");
  expect_error_naming([&] { axon::Adam(0.001, 1.0, 0.999, 1e-7); }, "beta1");
  expect_error_naming([&] { axon::Adam(0.001, -0.1, 0.999, 1e-7); }, "beta1");
  expect_error_naming([&] { axon::Adam(0.001, 0.9, 1.0, 1e-7); }, "beta2");
  expect_error_naming([&] { axon::Adam(0.001, 0.9, nan, 1e-7); }, "beta2");
  expect_error_naming([&] { axon::Adam(0.001, 0.9, 0.999, -1e-7); }, "epsilon");
  expect_error_naming([&] { axon::AdamW(0.001, -0.01, 0.9, 0.999, 1e-7); }, "weight_decay");
  expect_error_naming([&] { axon::RMSprop(0.001, 1.5, 0.0, 1e-7); }, "rho");
  expect_error_naming([&] { axon::RMSprop(0.001, 0.9, nan, 1e-7); }, "momentum");
  expect_error_naming([&] { axon::Adagrad(0.001, -0.1, 1e-7); }, "initial_accumulator");
}

TEST(Optimizer, SetLearningRateValidates) {
  axon::Adam adam(0.01, 0.9, 0.999, 1e-7);
  EXPECT_THROW(adam.set_learning_rate(std::nan("")), axon::Error);
  expect_error_naming([&] { adam.set_learning_rate(std::nan("")); }, "learning_rate");
  expect_error_naming([&] { adam.set_learning_rate(-1.0); }, "learning_rate");
  expect_error_naming([&] { adam.set_learning_rate(std::numeric_limits<double>::infinity()); }, "learning_rate");
  EXPECT_EQ(adam.learning_rate(), 0.01);  // a rejected value changes nothing
  adam.set_learning_rate(0.0);            // zero is allowed: a frozen step
  EXPECT_EQ(adam.learning_rate(), 0.0);
}

TEST(Optimizer, ByName) {
  for (const std::string name : {"sgd", "adam", "adamw", "rmsprop", "adagrad"}) {
    auto optimizer = axon::optimizer(name);
    ASSERT_NE(optimizer, nullptr);
    EXPECT_EQ(optimizer->name(), name);
  }
  EXPECT_THROW(axon::optimizer("nope"), axon::Error);
  const std::string message = axon::test_support::error_of([] { axon::optimizer("nope"); });
  for (const char* part : {"nope", "sgd", "adam", "adamw", "rmsprop", "adagrad"})
    EXPECT_NE(message.find(part), std::string::npos) << part << " missing from: " << message;
}

TEST(Optimizer, StepCountIncrementsAndResets) {
  axon::SGD sgd(0.1, 0.0, false);
  Variable w(Tensor::from(kStart, {3}), true);
  sgd.set_parameters({w});
  EXPECT_EQ(sgd.step_count(), 0);
  for (int64_t i = 1; i <= 3; ++i) {
    axon::sum(axon::square(w)).backward();
    sgd.step();
    sgd.zero_grad();
    EXPECT_EQ(sgd.step_count(), i);
  }
  sgd.set_parameters({w});  // new parameters: fresh state
  EXPECT_EQ(sgd.step_count(), 0);
}

TEST(Optimizer, ParameterWithoutGradIsUntouched) {
  // AdamW would decay any parameter it visits, so a skipped one must stay bit-identical.
  axon::AdamW adamw(0.1, 0.5, 0.9, 0.999, 1e-7);
  Variable used(Tensor::from(kStart, {3}), true);
  Variable unused(Tensor::from(std::vector<double>{1.5, -2.5}, {2}), true);
  adamw.set_parameters({used, unused});
  for (int i = 0; i < 3; ++i) {
    axon::sum(axon::square(used)).backward();
    EXPECT_FALSE(unused.grad().defined());
    adamw.step();
    adamw.zero_grad();
  }
  EXPECT_EQ(unused.value().to_vector(), (std::vector<double>{1.5, -2.5}));
  EXPECT_TRUE(adamw.state(1).empty());
  EXPECT_NE(used.value().to_vector(), kStart);
}

TEST(Optimizer, AdamStateSlots) {
  const double b1 = 0.8, b2 = 0.95;
  axon::Adam adam(0.1, b1, b2, 1e-3);
  Variable w(Tensor::from(kStart, {3}), true);
  adam.set_parameters({w});
  const Variable c(Tensor::from(kCenter, {3})), k(Tensor::from(kScale, {3}));
  axon::sum(k * axon::square(w - c)).backward();
  adam.step();
  auto& slots = adam.state(0);
  ASSERT_EQ(slots.size(), 2u);
  ASSERT_TRUE(slots.contains("m"));
  ASSERT_TRUE(slots.contains("v"));
  // After one step from zero: m = (1 - b1) g, v = (1 - b2) g^2, with g = 2 k (w0 - c).
  std::vector<double> m, v;
  for (size_t i = 0; i < 3; ++i) {
    const double g = 2 * kScale[i] * (kStart[i] - kCenter[i]);
    m.push_back((1 - b1) * g);
    v.push_back((1 - b2) * g * g);
  }
  expect_close(slots.at("m").to_vector(), m, 1e-12, "m");
  expect_close(slots.at("v").to_vector(), v, 1e-12, "v");
  EXPECT_EQ(slots.at("m").shape(), w.shape());
}

namespace axon {
namespace {

// A parameter whose gradient after backward() is exactly `grad` (loss = sum(p * grad)).
void set_gradient(Variable& p, const std::vector<double>& grad) {
  p.zero_grad();
  sum(p * Variable(Tensor::from(grad, p.shape()))).backward();
}

TEST(Optimizers, GradientClippingMatchesTheDefinitions) {
  auto step_of = [](GradientClipping clipping, std::vector<std::vector<double>> grads) {
    std::vector<Variable> params;
    for (const auto& g : grads)
      params.emplace_back(Tensor::zeros(Shape{static_cast<int64_t>(g.size())}, DType::f64), true);
    SGD sgd(1.0);
    sgd.set_clipping(clipping);
    sgd.set_parameters(params);
    for (size_t i = 0; i < params.size(); ++i) set_gradient(params[i], grads[i]);
    sgd.step();
    std::vector<std::vector<double>> moved;
    for (const Variable& p : params) moved.push_back(p.value().to_vector());
    return moved;
  };
  using Rows = std::vector<std::vector<double>>;
  // clipnorm: each gradient to norm <= 1 on its own; [3, 4] has norm 5.
  const Rows each = step_of({.clipnorm = 1}, {{3, 4}, {0.1, 0}});
  EXPECT_NEAR(each[0][0], -0.6, 1e-12);
  EXPECT_NEAR(each[0][1], -0.8, 1e-12);
  EXPECT_NEAR(each[1][0], -0.1, 1e-12);  // already under the norm: unchanged
  // global_clipnorm: one scale for all; the global norm of [3, 4] and [12] is 13.
  const Rows global = step_of({.global_clipnorm = 1}, {{3, 4}, {12}});
  EXPECT_NEAR(global[0][0], -3.0 / 13, 1e-12);
  EXPECT_NEAR(global[1][0], -12.0 / 13, 1e-12);
  // clipvalue: every element to [-2, 2].
  EXPECT_EQ(step_of({.clipvalue = 2}, {{3, -4, 1}}), (Rows{{-2, 2, -1}}));
  EXPECT_NE(test_support::error_of([] { SGD().set_clipping({.clipnorm = 1, .global_clipnorm = 1}); }).find("not both"),
            std::string::npos);
}

TEST(Optimizers, LearningRateSchedulesFollowTheStep) {
  const CosineDecay cosine(0.0, 100, 0.1, {.warmup_target = 1.0, .warmup_steps = 10});
  EXPECT_DOUBLE_EQ(cosine(0), 0.0);
  EXPECT_DOUBLE_EQ(cosine(5), 0.5);      // half way up the warmup line
  EXPECT_DOUBLE_EQ(cosine(10), 1.0);     // the peak
  EXPECT_NEAR(cosine(60), 0.55, 1e-12);  // half way down: 0.9 * 0.5 + 0.1
  EXPECT_DOUBLE_EQ(cosine(1000), 0.1);   // alpha * peak after decay_steps
  EXPECT_NEAR(ExponentialDecay(1.0, 10, 0.5)(15), std::pow(0.5, 1.5), 1e-12);
  EXPECT_DOUBLE_EQ(ExponentialDecay(1.0, 10, 0.5, true)(15), 0.5);  // staircase
  // SGD on loss = sum(p): each step moves p by -rate; the rate is schedule(steps done).
  Variable p(Tensor::zeros({1}, DType::f64), true);
  SGD sgd(PiecewiseConstantDecay({1}, {1.0, 0.5}));
  sgd.set_parameters({p});
  for (int step = 0; step < 3; ++step) {
    set_gradient(p, {1});
    sgd.step();
  }
  EXPECT_DOUBLE_EQ(p.value().item(), -2.5);  // rates 1, 1, then 0.5 after step 1
  EXPECT_DOUBLE_EQ(sgd.learning_rate(), 0.5);
  EXPECT_NE(test_support::error_of([&] { sgd.set_learning_rate(0.1); }).find("follows a schedule"), std::string::npos);
}

TEST(Optimizers, SchedulesAndClippingAreSavedWithTheModel) {
  Sequential model(Shape{2});
  model.add(Dense(1));
  auto adam = std::make_shared<Adam>(CosineDecay(1e-3, 500, 0.0, {.warmup_target = 2e-3, .warmup_steps = 50}));
  adam->set_clipping({.global_clipnorm = 1.5});
  model.compile(adam, "mse");
  const std::string spec = model_to_spec(model);
  EXPECT_NE(spec.find(R"("type": "cosine_decay")"), std::string::npos) << spec;
  EXPECT_NE(spec.find(R"("global_clipnorm": 1.5)"), std::string::npos) << spec;
  const std::shared_ptr<Model> again = model_from_spec(spec);
  EXPECT_EQ(model_to_spec(*again), spec);
  EXPECT_DOUBLE_EQ((*again->optimizer().schedule())(25), 1.5e-3);
  EXPECT_DOUBLE_EQ(again->optimizer().clipping().global_clipnorm, 1.5);
}

}  // namespace
}  // namespace axon
