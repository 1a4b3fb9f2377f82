#include "axon/initializers.h"

#include <cmath>
#include <utility>

namespace axon {

namespace {

const std::pair<const char*, Initializer::Kind> kNames[] = {{"glorot_uniform", Initializer::Kind::glorot_uniform},
                                                            {"glorot_normal", Initializer::Kind::glorot_normal},
                                                            {"he_uniform", Initializer::Kind::he_uniform},
                                                            {"he_normal", Initializer::Kind::he_normal},
                                                            {"lecun_uniform", Initializer::Kind::lecun_uniform},
                                                            {"lecun_normal", Initializer::Kind::lecun_normal},
                                                            {"zeros", Initializer::Kind::zeros},
                                                            {"ones", Initializer::Kind::ones},
                                                            {"constant", Initializer::Kind::constant}};

// Keras's truncated normal: draws beyond 2 stddev are redrawn; the stddev is divided by
// 0.8796..., the stddev of a unit normal truncated at +-2, so the variance comes out right.
Tensor truncated_normal(const Shape& shape, double stddev, Generator& generator, DType dtype) {
  const double scale = stddev / 0.87962566103423978;
  Tensor t = Tensor::empty(shape, dtype);
  dispatch(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      double z = generator.normal();
      while (std::abs(z) > 2.0) z = generator.normal();
      p[i] = static_cast<T>(z * scale);
    }
  });
  return t;
}

}  // namespace

Initializer Initializer::from_name(const std::string& name) {
  for (const auto& [known, kind] : kNames)
    if (name == known) return Initializer(kind);
  std::string allowed;
  for (const auto& entry : kNames) allowed += std::string(allowed.empty() ? "" : ", ") + entry.first;
  fail("unknown initializer '", name, "'; expected one of: ", allowed);
}

std::string Initializer::name() const {
  for (const auto& [known, kind] : kNames)
    if (kind == kind_) return known;
  return "unknown";
}

Tensor Initializer::operator()(const Shape& shape, int64_t fan_in, int64_t fan_out, Generator& generator,
                               DType dtype) const {
  const double in = static_cast<double>(std::max<int64_t>(fan_in, 1));
  const double average =
      (static_cast<double>(std::max<int64_t>(fan_in, 1)) + static_cast<double>(std::max<int64_t>(fan_out, 1))) / 2.0;
  switch (kind_) {
    // Variance scaling: variance = scale / n; uniform on [-limit, limit] has variance limit^2 / 3.
    case Kind::glorot_uniform:
      return generator.uniform(shape, -std::sqrt(3.0 / average), std::sqrt(3.0 / average), dtype);
    case Kind::glorot_normal:
      return truncated_normal(shape, std::sqrt(1.0 / average), generator, dtype);
    case Kind::he_uniform:
      return generator.uniform(shape, -std::sqrt(6.0 / in), std::sqrt(6.0 / in), dtype);
    case Kind::he_normal:
      return truncated_normal(shape, std::sqrt(2.0 / in), generator, dtype);
    case Kind::lecun_uniform:
      return generator.uniform(shape, -std::sqrt(3.0 / in), std::sqrt(3.0 / in), dtype);
    case Kind::lecun_normal:
      return truncated_normal(shape, std::sqrt(1.0 / in), generator, dtype);
    case Kind::zeros:
      return Tensor::zeros(shape, dtype);
    case Kind::ones:
      return Tensor::ones(shape, dtype);
    case Kind::constant:
      return Tensor::full(shape, value_, dtype);
  }
  fail("Initializer: unknown kind");
}

}  // namespace axon

namespace axon {

Config Initializer::config() const {
  if (kind_ == Kind::constant) return Config::object().set("type", "constant").set("value", value_);
  return name();
}

Initializer Initializer::from_config(const ConfigReader& c) {
  if (c.value().kind() == Config::Kind::string) return c.named([&] { return from_name(c.as_string()); });
  const std::string type = c.string("type");
  Initializer result =
      type == "constant" ? constant(c.number("value", -INFINITY, INFINITY)) : c.named([&] { return from_name(type); });
  c.reject_unknown();
  return result;
}

}  // namespace axon
