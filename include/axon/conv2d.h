#pragma once
// Conv2D on NCHW images: y = activation(conv(x, kernel) + bias), kernel
// (filters, channels, kh, kw) as PyTorch lays it out; channels from the first input.
#include <array>
#include <optional>
#include <string>

#include "axon/activations.h"
#include "axon/initializers.h"
#include "axon/ops.h"

namespace axon {

// "valid" (no padding), "same" (output size = ceil(input / stride), as TensorFlow pads),
// or explicit {top, bottom, left, right}.
struct Padding {
  Padding(const char* mode) : Padding(std::string(mode)) {}
  Padding(const std::string& mode);
  Padding(std::array<int64_t, 4> explicit_pads) : mode("explicit"), pads(explicit_pads) {}
  std::string mode = "valid";
  std::array<int64_t, 4> pads = {0, 0, 0, 0};
  // The {top, bottom, left, right} padding for an input (h, w).
  std::array<int64_t, 4> resolve(int64_t h, int64_t w, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                                 std::array<int64_t, 2> dilation) const;
};

struct Conv2DOptions {
  std::array<int64_t, 2> strides = {1, 1};
  Padding padding = "valid";
  std::array<int64_t, 2> dilation = {1, 1};
  bool use_bias = true;
  Initializer kernel_initializer = Initializer::Kind::glorot_uniform;
  Initializer bias_initializer = Initializer::Kind::zeros;
  Regularizer kernel_regularizer = {};
  Regularizer bias_regularizer = {};
  std::optional<uint64_t> seed;
};

class Pool2D;

class Conv2D : public Module {
 public:
  Conv2D(int64_t filters, std::array<int64_t, 2> kernel_size, const std::string& activation = "linear", Conv2DOptions options = {});

  Variable forward(const Variable& x) override;
  // pool(this(x)) as one op when the activation is relu or linear and pool is a max
  // pooling (see fuses_with); builds both layers and notes both output shapes.
  Variable forward_max_pooled(const Variable& x, Pool2D& pool);
  bool fuses_with(const Module& next) const;
  std::string type_name() const override { return "Conv2D"; }
  int64_t filters() const { return filters_; }
  const std::array<int64_t, 2>& kernel_size() const { return kernel_size_; }
  const std::string& activation_name() const { return activation_name_; }
  const Conv2DOptions& options() const { return options_; }

 protected:
  void create_weights(const Shape& input_shape) override;

 private:
  // The {top, bottom, left, right} padding for an input of this shape and the (OH, OW) it
  // gives; throws naming the layer and the shape when the kernel does not fit.
  std::pair<std::array<int64_t, 4>, std::array<int64_t, 2>> geometry(const Shape& input_shape) const;
  // The op's options for this input (also checks its channels); its (OH, OW) in *output_size.
  Conv2dOptions conv_options(const Shape& input_shape, std::array<int64_t, 2>* output_size = nullptr) const;

  int64_t filters_;
  std::array<int64_t, 2> kernel_size_;
  std::string activation_name_;
  ActivationFn activation_;
  Conv2DOptions options_;
  Variable kernel_, bias_;
};

}  // namespace axon
