#pragma once
// Weight initializers, as in Keras: glorot (Xavier), he (Kaiming), lecun, each uniform
// or (truncated) normal, orthogonal (recurrent kernels), and zeros / ones / constant. fan_in and fan_out are given by
// the layer: for Dense (in, out) they are in and out.
#include <string>

#include "axon/config.h"
#include "axon/random.h"

namespace axon {

class Initializer {
 public:
  enum class Kind {
    glorot_uniform,
    glorot_normal,
    he_uniform,
    he_normal,
    lecun_uniform,
    lecun_normal,
    zeros,
    ones,
    constant,
    orthogonal
  };

  Initializer(Kind kind = Kind::glorot_uniform, double value = 0.0) : kind_(kind), value_(value) {}
  // "glorot_uniform", "he_normal", "zeros", ... (Keras's names); throws on others.
  static Initializer from_name(const std::string& name);
  static Initializer constant(double value) { return Initializer(Kind::constant, value); }

  Tensor operator()(const Shape& shape, int64_t fan_in, int64_t fan_out, Generator& generator,
                    DType dtype = DType::f32) const;
  std::string name() const;
  // Its name ("he_normal"), or {"type": "constant", "value": v}; read back by from_config.
  Config config() const;
  static Initializer from_config(const ConfigReader& config);
  Kind kind() const { return kind_; }
  double value() const { return value_; }

 private:
  Kind kind_;
  double value_;
};

}  // namespace axon
