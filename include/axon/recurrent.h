#pragma once
// Recurrent layers over (batch, time, features) sequences, with Keras's semantics and
// weight layout: SimpleRNN, LSTM and GRU.
//   kernel (features, gates * units), recurrent_kernel (units, gates * units), bias.
//   SimpleRNN  1 gate:  h = tanh(x W + h U + b)
//   LSTM       4 gates in the order i, f, c, o (as Keras and PyTorch):
//              i, f, o = sigmoid(.), g = tanh(.), c = f * c + i * g, h = o * tanh(c);
//              the forget gate's bias starts at 1 (Keras's unit_forget_bias)
//   GRU        3 gates in the order z, r, h (Keras's; PyTorch's is r, z, n). With
//              reset_after (Keras's default, and PyTorch's form) bias is (2, 3 units):
//              an input and a recurrent bias, and hh = tanh(x W_h + b_h + r * (h U_h + b'_h));
//              without, bias is (3 units) and hh = tanh(x W_h + (r * h) U_h + b_h).
//              h = z * h + (1 - z) * hh.
// The recurrent kernel starts orthogonal, the kernel glorot uniform, as Keras. Every
// layer projects the whole sequence's inputs in one GEMM; LSTM and GRU (reset_after)
// then run all their steps as one fused op (lstm_sequence, gru_sequence in ops.h),
// SimpleRNN and GRU without reset_after step by step.
// Inputs: the sequence, then optionally the initial states (batch, units) — h for
// SimpleRNN and GRU, h and c for LSTM — else zeros. Outputs: the last step's output
// (batch, units), or every step's (batch, time, units) with return_sequences; then,
// with return_state, the final states. go_backwards reads the sequence from its end
// (and returns the outputs in that order, as Keras).
//   SymbolicTensor h = LSTM(64, {.return_sequences = true})(Embedding(vocab, 32)(tokens));
#include <memory>
#include <string>
#include <vector>

#include "axon/module.h"
#include "axon/weight_options.h"

namespace axon {

// dropout and recurrent_dropout (Keras's, while training): the fraction of the input's
// features, and of h where it meets the recurrent kernel, zeroed, one mask per call
// shared by every step; the kept values scaled by 1 / (1 - rate).
struct RecurrentOptions {
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  double dropout = 0;
  double recurrent_dropout = 0;
};

class Recurrent : public Module {
 public:
  std::vector<Variable> forward_many(const std::vector<Variable>& inputs) override;
  Config config() const override;
  // ONNX's LSTM, GRU or RNN operator (src/nn/recurrent_onnx.h).
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  void state(StateArchive& archive) override { archive.generator("dropout_generator", generator_); }

  int64_t units() const { return units_; }
  const RecurrentOptions& recurrent_options() const { return recurrent_options_; }
  const WeightOptions& options() const { return options_; }
  const Variable& kernel() const { return kernel_; }
  const Variable& recurrent_kernel() const { return recurrent_kernel_; }
  const Variable& bias() const { return bias_; }

 protected:
  // gates: how many blocks of `units` the kernels hold; states: h, or h and c.
  Recurrent(int64_t units, int64_t gates, size_t states, RecurrentOptions recurrent_options, WeightOptions options);
  void create_weights_many(const std::vector<Shape>& input_shapes) override;
  // The bias of the input projection, (gates * units) (undefined without a bias).
  virtual Variable input_bias() const { return bias_; }
  virtual Shape bias_shape() const { return Shape{gates_ * units_}; }
  // Sets the bias's initial value in place (LSTM: the forget gate's 1s).
  virtual void initialize_bias(Tensor& bias) const { (void)bias; }
  // The sequence's input projection (batch, time, gates * units), one GEMM for every
  // step, and the initial states (given, or zeros), checked against the layer.
  struct Start {
    Variable projected;
    std::vector<Variable> states;
  };
  // With dropout while training, it draws this call's masks (recurrent_mask_ too).
  Start start(const std::vector<Variable>& inputs);
  // The layer's outputs from every step's output (batch, time, units), in the order the
  // steps ran, and the final states; the sequence carries the input's mask (in the
  // order the steps ran).
  std::vector<Variable> outputs(Variable sequence, std::vector<Variable> final_states, const Tensor& mask) const;
  // One step: x_t, the input projected (batch, gates * units), and the states (batch,
  // units) each -> the new states; the output is the new first state. (LSTM runs all
  // steps as one fused op instead.)
  virtual std::vector<Variable> step(const Variable& x_t, const std::vector<Variable>& states) = 0;
  // Recurrent settings, then the layer's own, then the weight options.
  Config recurrent_config() const;
  static RecurrentOptions read_recurrent_options(const ConfigReader& config);

  // h as it meets the recurrent kernel: with recurrent dropout's mask of this call.
  Variable recurrent_input(const Variable& h) const;
  const Tensor& recurrent_dropout_mask() const;  // this training call's, or undefined

  int64_t units_, gates_;
  size_t state_count_;
  RecurrentOptions recurrent_options_;
  WeightOptions options_;
  Variable kernel_, recurrent_kernel_, bias_;
  Generator generator_;     // the dropout masks
  Tensor recurrent_mask_;  // (batch, units), the last training call's with recurrent dropout
};

class SimpleRNN : public Recurrent {
 public:
  explicit SimpleRNN(int64_t units, RecurrentOptions recurrent_options = {}, WeightOptions options = {})
      : Recurrent(units, 1, 1, recurrent_options, std::move(options)) {}
  std::string type_name() const override { return "SimpleRNN"; }
  static std::shared_ptr<SimpleRNN> from_config(const ConfigReader& config);

 protected:
  std::vector<Variable> step(const Variable& x_t, const std::vector<Variable>& states) override;
};

class LSTM : public Recurrent {
 public:
  explicit LSTM(int64_t units, RecurrentOptions recurrent_options = {}, WeightOptions options = {})
      : Recurrent(units, 4, 2, recurrent_options, std::move(options)) {}
  std::string type_name() const override { return "LSTM"; }
  std::vector<Variable> forward_many(const std::vector<Variable>& inputs) override;  // lstm_sequence (ops.h)
  static std::shared_ptr<LSTM> from_config(const ConfigReader& config);

 protected:
  void initialize_bias(Tensor& bias) const override;
  std::vector<Variable> step(const Variable& x_t, const std::vector<Variable>& states) override;
};

class GRU : public Recurrent {
 public:
  explicit GRU(int64_t units, RecurrentOptions recurrent_options = {}, bool reset_after = true,
               WeightOptions options = {})
      : Recurrent(units, 3, 1, recurrent_options, std::move(options)), reset_after_(reset_after) {}
  std::string type_name() const override { return "GRU"; }
  std::vector<Variable> forward_many(const std::vector<Variable>& inputs) override;  // gru_sequence (ops.h)
  Config config() const override;
  static std::shared_ptr<GRU> from_config(const ConfigReader& config);
  bool reset_after() const { return reset_after_; }

 protected:
  Variable input_bias() const override;
  Variable recurrent_bias() const;
  Shape bias_shape() const override;
  std::vector<Variable> step(const Variable& x_t, const std::vector<Variable>& states) override;

 private:
  bool reset_after_;
};

}  // namespace axon
