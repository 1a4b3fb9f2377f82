#include "axon/initializers.h"

#include <cmath>
#include <utility>
#include <vector>

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
                                                            {"constant", Initializer::Kind::constant},
                                                            {"orthogonal", Initializer::Kind::orthogonal}};

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

// Keras's orthogonal: the (rows, columns) matrix (all axes but the last, the last) with
// orthonormal rows or columns, whichever there are fewer of: a normal draw of
// (max, min), orthonormalized by Gram-Schmidt (the Q of QR with a positive diagonal of
// R), transposed when there are fewer rows.
Tensor orthogonal(const Shape& shape, Generator& generator, DType dtype) {
  const int64_t columns = shape.rank() ? shape[shape.rank() - 1] : 1, rows = columns ? shape.numel() / columns : 0;
  const int64_t n = std::max(rows, columns), m = std::min(rows, columns);
  std::vector<double> q(static_cast<size_t>(n * m));  // column j at q[j * n ...]
  for (double& v : q) v = generator.normal();
  for (int64_t j = 0; j < m; ++j) {
    double* column = q.data() + j * n;
    for (int64_t k = 0; k < j; ++k) {
      const double* done = q.data() + k * n;
      double dot = 0;
      for (int64_t i = 0; i < n; ++i) dot += done[i] * column[i];
      for (int64_t i = 0; i < n; ++i) column[i] -= dot * done[i];
    }
    double norm = 0;
    for (int64_t i = 0; i < n; ++i) norm += column[i] * column[i];
    norm = std::sqrt(norm);
    for (int64_t i = 0; i < n; ++i) column[i] /= norm;
  }
  Tensor t = Tensor::empty(shape, dtype);
  dispatch(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* p = t.data<T>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < columns; ++c)  // (n, m) is (rows, columns), or its transpose
        p[r * columns + c] =
            static_cast<T>(rows >= columns ? q[static_cast<size_t>(c * n + r)] : q[static_cast<size_t>(r * n + c)]);
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
    case Kind::orthogonal:
      return orthogonal(shape, generator, dtype);
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
