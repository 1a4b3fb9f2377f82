#pragma once
// Optimizers: shared bookkeeping (parameters, learning rate, step count, per-parameter
// state slots) in Optimizer, and one update rule per subclass. The rules follow
// PyTorch's torch.optim formulas; defaults follow Keras where the two differ only in
// defaults (e.g. Adam's epsilon 1e-7).
#include <cmath>
#include <concepts>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "axon/config.h"
#include "axon/learning_rate_schedules.h"
#include "axon/variable.h"

namespace axon {

// A learning rate: a number, or a schedule of the step (learning_rate_schedules.h):
//   Adam(1e-3)    Adam(CosineDecay(1e-3, 10000))
struct LearningRate {
  LearningRate(double rate) : value(rate) {}
  template <std::derived_from<LearningRateSchedule> S>
  LearningRate(S schedule_of_step) : schedule(std::make_shared<S>(std::move(schedule_of_step))) {}
  LearningRate(std::shared_ptr<const LearningRateSchedule> schedule_of_step);
  double value = 0;
  std::shared_ptr<const LearningRateSchedule> schedule;
};

// Gradient clipping before each update, as Keras's optimizer arguments (0 = off):
// clipnorm rescales each parameter's gradient to at most that L2 norm, global_clipnorm
// all of them together (one scale), clipvalue clamps every element to [-v, v]. At most
// one of the two norms.
struct GradientClipping {
  double clipnorm = 0, global_clipnorm = 0, clipvalue = 0;
};

class Optimizer {
 public:
  explicit Optimizer(LearningRate learning_rate);
  virtual ~Optimizer() = default;

  // The Variables to update (a model's trainable parameters). Resets the state.
  void set_parameters(std::vector<Variable> parameters);
  const std::vector<Variable>& parameters() const { return parameters_; }

  // One update of every parameter that has a gradient, then step_count() + 1.
  void step();
  void zero_grad();

  // The rate of the last update (the next one's before any step, with a schedule).
  double learning_rate() const { return learning_rate_; }
  void set_learning_rate(double learning_rate);  // finite and >= 0; not with a schedule
  const std::shared_ptr<const LearningRateSchedule>& schedule() const { return schedule_; }
  void set_clipping(GradientClipping clipping);
  const GradientClipping& clipping() const { return clipping_; }
  int64_t step_count() const { return steps_; }
  void set_step_count(int64_t steps);  // when restoring a checkpoint
  virtual std::string name() const = 0;
  // The settings besides the learning rate, by their Keras names (for model files).
  virtual std::vector<std::pair<std::string, double>> hyperparameters() const = 0;
  // {"learning_rate": number or schedule, hyperparameters..., clipping}: rebuilds it
  // through its registered from_config (see registry.h; the type is name()).
  Config config() const;

  // Named state of parameter i ("m", "v", "momentum", ...), for checkpoints.
  std::map<std::string, Tensor>& state(size_t i) { return state_.at(i); }

 protected:
  // Updates `param` in place from its gradient; `slots` is this parameter's state and
  // `t` the 1-based step number.
  virtual void update(Tensor& param, const Tensor& grad, std::map<std::string, Tensor>& slots, int64_t t) = 0;
  // The slot `name` for `param`, created as zeros on first use.
  static Tensor& slot(std::map<std::string, Tensor>& slots, const std::string& name, const Tensor& param);
  static double check_hyper(const char* optimizer, const char* name, double value, double low, double high);
  // For from_config: "learning_rate" (a number or a schedule config), and the clipping.
  static LearningRate learning_rate_from(const ConfigReader& config, double fallback);
  template <class O>
  static std::shared_ptr<O> with_clipping_from(std::shared_ptr<O> optimizer, const ConfigReader& config);

 private:
  std::vector<Variable> parameters_;
  std::vector<std::map<std::string, Tensor>> state_;
  double learning_rate_;
  std::shared_ptr<const LearningRateSchedule> schedule_;
  GradientClipping clipping_;
  int64_t steps_ = 0;
};

template <class O>
std::shared_ptr<O> Optimizer::with_clipping_from(std::shared_ptr<O> optimizer, const ConfigReader& c) {
  optimizer->set_clipping({c.number_or("clipnorm", 0, 0, INFINITY), c.number_or("global_clipnorm", 0, 0, INFINITY),
                           c.number_or("clipvalue", 0, 0, INFINITY)});
  return optimizer;
}

// p -= lr * d, where d = g (plain), buf = momentum * buf + g; d = buf (momentum),
// or d = g + momentum * buf (Nesterov).
class SGD : public Optimizer {
 public:
  explicit SGD(LearningRate learning_rate = 0.01, double momentum = 0.0, bool nesterov = false);
  std::string name() const override { return "sgd"; }
  static std::shared_ptr<SGD> from_config(const ConfigReader& config);
  std::vector<std::pair<std::string, double>> hyperparameters() const override;

 protected:
  void update(Tensor& param, const Tensor& grad, std::map<std::string, Tensor>& slots, int64_t t) override;

 private:
  double momentum_;
  bool nesterov_;
};

// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). AdamW first decays
// p *= 1 - lr * weight_decay (decoupled, Loshchilov & Hutter).
class Adam : public Optimizer {
 public:
  explicit Adam(LearningRate learning_rate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7);
  std::string name() const override { return "adam"; }
  static std::shared_ptr<Adam> from_config(const ConfigReader& config);
  std::vector<std::pair<std::string, double>> hyperparameters() const override;

 protected:
  void update(Tensor& param, const Tensor& grad, std::map<std::string, Tensor>& slots, int64_t t) override;
  double weight_decay_ = 0.0;

 private:
  double beta1_, beta2_, epsilon_;
};

class AdamW : public Adam {
 public:
  explicit AdamW(LearningRate learning_rate = 0.001, double weight_decay = 0.01, double beta1 = 0.9,
                 double beta2 = 0.999, double epsilon = 1e-7);
  std::string name() const override { return "adamw"; }
  static std::shared_ptr<AdamW> from_config(const ConfigReader& config);
};

// v = rho v + (1 - rho) g^2; p -= lr g / (sqrt(v) + eps); with momentum:
// buf = momentum buf + g / (sqrt(v) + eps); p -= lr buf.
class RMSprop : public Optimizer {
 public:
  explicit RMSprop(LearningRate learning_rate = 0.001, double rho = 0.9, double momentum = 0.0, double epsilon = 1e-7);
  std::string name() const override { return "rmsprop"; }
  static std::shared_ptr<RMSprop> from_config(const ConfigReader& config);
  std::vector<std::pair<std::string, double>> hyperparameters() const override;

 protected:
  void update(Tensor& param, const Tensor& grad, std::map<std::string, Tensor>& slots, int64_t t) override;

 private:
  double rho_, momentum_, epsilon_;
};

// s += g^2; p -= lr g / (sqrt(s) + eps)
class Adagrad : public Optimizer {
 public:
  explicit Adagrad(LearningRate learning_rate = 0.001, double initial_accumulator = 0.1, double epsilon = 1e-7);
  std::string name() const override { return "adagrad"; }
  static std::shared_ptr<Adagrad> from_config(const ConfigReader& config);
  std::vector<std::pair<std::string, double>> hyperparameters() const override;

 protected:
  void update(Tensor& param, const Tensor& grad, std::map<std::string, Tensor>& slots, int64_t t) override;

 private:
  double initial_accumulator_, epsilon_;
};

// "sgd", "adam", "adamw", "rmsprop", "adagrad" (any registered name) with default settings.
std::shared_ptr<Optimizer> optimizer(const std::string& name);

}  // namespace axon
