// The update rule of each optimizer: one loop over the parameter's elements, written
// for both float and double.
#include <cmath>

#include "axon/optimizers.h"
#include "axon/registry.h"
#include "kernels/parallel.h"

namespace axon {

AXON_REGISTER(Optimizer, "sgd", SGD);
AXON_REGISTER(Optimizer, "adam", Adam);
AXON_REGISTER(Optimizer, "adamw", AdamW);
AXON_REGISTER(Optimizer, "rmsprop", RMSprop);
AXON_REGISTER(Optimizer, "adagrad", Adagrad);

std::shared_ptr<SGD> SGD::from_config(const ConfigReader& c) {
  bool nesterov = false;
  if (c.has("nesterov")) {
    const ConfigReader f = c.at("nesterov");
    nesterov = f.value().kind() == Config::Kind::boolean ? f.as_bool() : f.as_number(0, 1) != 0;
  }
  return with_clipping_from(
      std::make_shared<SGD>(learning_rate_from(c, 0.01), c.number_or("momentum", 0, 0, 1), nesterov), c);
}

std::shared_ptr<Adam> Adam::from_config(const ConfigReader& c) {
  return with_clipping_from(
      std::make_shared<Adam>(learning_rate_from(c, 0.001), c.number_or("beta_1", 0.9, 0, 1, true),
                             c.number_or("beta_2", 0.999, 0, 1, true), c.number_or("epsilon", 1e-7, 0, 1)),
      c);
}

std::shared_ptr<AdamW> AdamW::from_config(const ConfigReader& c) {
  return with_clipping_from(
      std::make_shared<AdamW>(learning_rate_from(c, 0.001), c.number_or("weight_decay", 0.01, 0, 1),
                              c.number_or("beta_1", 0.9, 0, 1, true), c.number_or("beta_2", 0.999, 0, 1, true),
                              c.number_or("epsilon", 1e-7, 0, 1)),
      c);
}

std::shared_ptr<RMSprop> RMSprop::from_config(const ConfigReader& c) {
  return with_clipping_from(
      std::make_shared<RMSprop>(learning_rate_from(c, 0.001), c.number_or("rho", 0.9, 0, 1),
                                c.number_or("momentum", 0, 0, 1), c.number_or("epsilon", 1e-7, 0, 1)),
      c);
}

std::shared_ptr<Adagrad> Adagrad::from_config(const ConfigReader& c) {
  return with_clipping_from(std::make_shared<Adagrad>(learning_rate_from(c, 0.001),
                                                      c.number_or("initial_accumulator_value", 0.1, 0, INFINITY),
                                                      c.number_or("epsilon", 1e-7, 0, 1)),
                            c);
}

namespace {

// Runs body(p, g, begin, end, T{}) over [0, numel) in parallel chunks, with typed
// pointers to the parameter and its gradient.
template <class Body>
void typed(Tensor& param, const Tensor& grad, Body&& body) {
  dispatch(param.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    kernels::parallel_for(param.numel(), 8, [&](int64_t begin, int64_t end) { body(p, g, begin, end, T{}); });
  });
}

template <class T>
T* as(Tensor& t) {
  return t.data<T>();
}

}  // namespace

SGD::SGD(LearningRate learning_rate, double momentum, bool nesterov)
    : Optimizer(std::move(learning_rate)),
      momentum_(check_hyper("sgd", "momentum", momentum, 0.0, 1.0)),
      nesterov_(nesterov) {
  if (nesterov && momentum == 0.0) fail("sgd: nesterov needs a momentum > 0");
}

std::vector<std::pair<std::string, double>> SGD::hyperparameters() const {
  return {{"momentum", momentum_}, {"nesterov", nesterov_ ? 1.0 : 0.0}};
}

void SGD::update(Tensor& param, const Tensor& grad, std::map<std::string, Tensor>& slots, int64_t) {
  const double lr = learning_rate();
  Tensor* buffer = momentum_ > 0 ? &slot(slots, "momentum", param) : nullptr;
  typed(param, grad, [&](auto* p, const auto* g, int64_t begin, int64_t end, auto zero) {
    using T = decltype(zero);
    const T rate = static_cast<T>(lr), mu = static_cast<T>(momentum_);
    if (!buffer) {
      for (int64_t i = begin; i < end; ++i) p[i] -= rate * g[i];
      return;
    }
    T* b = as<T>(*buffer);
    for (int64_t i = begin; i < end; ++i) {
      b[i] = mu * b[i] + g[i];
      p[i] -= rate * (nesterov_ ? g[i] + mu * b[i] : b[i]);
    }
  });
}

Adam::Adam(LearningRate learning_rate, double beta1, double beta2, double epsilon)
    : Optimizer(std::move(learning_rate)),
      beta1_(check_hyper("adam", "beta1", beta1, 0.0, 1.0 - 1e-12)),
      beta2_(check_hyper("adam", "beta2", beta2, 0.0, 1.0 - 1e-12)),
      epsilon_(check_hyper("adam", "epsilon", epsilon, 0.0, 1.0)) {}

AdamW::AdamW(LearningRate learning_rate, double weight_decay, double beta1, double beta2, double epsilon)
    : Adam(std::move(learning_rate), beta1, beta2, epsilon) {
  weight_decay_ = check_hyper("adamw", "weight_decay", weight_decay, 0.0, 1.0);
}

std::vector<std::pair<std::string, double>> Adam::hyperparameters() const {
  std::vector<std::pair<std::string, double>> settings = {
      {"beta_1", beta1_}, {"beta_2", beta2_}, {"epsilon", epsilon_}};
  if (name() == "adamw") settings.emplace_back("weight_decay", weight_decay_);
  return settings;
}

void Adam::update(Tensor& param, const Tensor& grad, std::map<std::string, Tensor>& slots, int64_t t) {
  Tensor& m_slot = slot(slots, "m", param);
  Tensor& v_slot = slot(slots, "v", param);
  const double lr = learning_rate();
  const double correction1 = 1.0 - std::pow(beta1_, static_cast<double>(t));
  const double correction2 = 1.0 - std::pow(beta2_, static_cast<double>(t));
  typed(param, grad, [&](auto* p, const auto* g, int64_t begin, int64_t end, auto zero) {
    using T = decltype(zero);
    T* m = as<T>(m_slot);
    T* v = as<T>(v_slot);
    const T b1 = static_cast<T>(beta1_), b2 = static_cast<T>(beta2_), eps = static_cast<T>(epsilon_);
    // step * m / (sqrt(v) / root2 + eps), multiplied through by root2: one division
    // and one square root per element, which bound the loop's speed.
    const double root2 = std::sqrt(correction2);
    const T step = static_cast<T>(lr / correction1 * root2), eps_root2 = eps * static_cast<T>(root2);
    const T decay = static_cast<T>(1.0 - lr * weight_decay_);
    for (int64_t i = begin; i < end; ++i) {
      m[i] = b1 * m[i] + (T(1) - b1) * g[i];
      v[i] = b2 * v[i] + (T(1) - b2) * g[i] * g[i];
      p[i] = p[i] * decay - step * m[i] / (std::sqrt(v[i]) + eps_root2);
    }
  });
}

RMSprop::RMSprop(LearningRate learning_rate, double rho, double momentum, double epsilon)
    : Optimizer(std::move(learning_rate)),
      rho_(check_hyper("rmsprop", "rho", rho, 0.0, 1.0)),
      momentum_(check_hyper("rmsprop", "momentum", momentum, 0.0, 1.0)),
      epsilon_(check_hyper("rmsprop", "epsilon", epsilon, 0.0, 1.0)) {}

std::vector<std::pair<std::string, double>> RMSprop::hyperparameters() const {
  return {{"rho", rho_}, {"momentum", momentum_}, {"epsilon", epsilon_}};
}

void RMSprop::update(Tensor& param, const Tensor& grad, std::map<std::string, Tensor>& slots, int64_t) {
  Tensor& v_slot = slot(slots, "v", param);
  Tensor* buffer = momentum_ > 0 ? &slot(slots, "momentum", param) : nullptr;
  const double lr = learning_rate();
  typed(param, grad, [&](auto* p, const auto* g, int64_t begin, int64_t end, auto zero) {
    using T = decltype(zero);
    T* v = as<T>(v_slot);
    T* b = buffer ? as<T>(*buffer) : nullptr;
    const T rho = static_cast<T>(rho_), mu = static_cast<T>(momentum_), eps = static_cast<T>(epsilon_),
            rate = static_cast<T>(lr);
    for (int64_t i = begin; i < end; ++i) {
      v[i] = rho * v[i] + (T(1) - rho) * g[i] * g[i];
      const T scaled = g[i] / (std::sqrt(v[i]) + eps);
      if (b) {
        b[i] = mu * b[i] + scaled;
        p[i] -= rate * b[i];
      } else {
        p[i] -= rate * scaled;
      }
    }
  });
}

Adagrad::Adagrad(LearningRate learning_rate, double initial_accumulator, double epsilon)
    : Optimizer(std::move(learning_rate)),
      initial_accumulator_(check_hyper("adagrad", "initial_accumulator", initial_accumulator, 0.0, INFINITY)),
      epsilon_(check_hyper("adagrad", "epsilon", epsilon, 0.0, 1.0)) {}

std::vector<std::pair<std::string, double>> Adagrad::hyperparameters() const {
  return {{"initial_accumulator_value", initial_accumulator_}, {"epsilon", epsilon_}};
}

void Adagrad::update(Tensor& param, const Tensor& grad, std::map<std::string, Tensor>& slots, int64_t) {
  const bool fresh = !slots.contains("sum");
  Tensor& s_slot = slot(slots, "sum", param);
  if (fresh) s_slot.fill(initial_accumulator_);
  const double lr = learning_rate();
  typed(param, grad, [&](auto* p, const auto* g, int64_t begin, int64_t end, auto zero) {
    using T = decltype(zero);
    T* s = as<T>(s_slot);
    const T eps = static_cast<T>(epsilon_), rate = static_cast<T>(lr);
    for (int64_t i = begin; i < end; ++i) {
      s[i] += g[i] * g[i];
      p[i] -= rate * g[i] / (std::sqrt(s[i]) + eps);
    }
  });
}

}  // namespace axon
