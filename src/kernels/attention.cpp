#include "kernels/attention.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/fast_exp.h"
#include "kernels/gemm.h"
#include "kernels/lane_sum.h"
#include "kernels/parallel.h"
#include "kernels/position_hash.h"

namespace axon::kernels {

namespace {

// The sizes of one call, read from q (B, Tq, H, D), k (B, Tk, H, D), v (B, Tk, H, Dv).
struct Dims {
  int64_t batch, queries, keys, heads, key_dim, value_dim;
  int64_t offset() const { return keys - queries; }  // causal: query i sees keys j <= i + offset
  // Row strides: consecutive steps of one head are heads * dim apart.
  int64_t qk_stride() const { return heads * key_dim; }
  int64_t v_stride() const { return heads * value_dim; }
};

Dims dims_of(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionSettings& s) {
  if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4)
    fail("attention: query, key and value must be (batch, steps, heads, dim), got ", q.shape(), ", ", k.shape(),
         " and ", v.shape());
  const Dims d{q.dim(0), q.dim(1), k.dim(1), q.dim(2), q.dim(3), v.dim(3)};
  if (k.dim(0) != d.batch || v.dim(0) != d.batch || k.dim(2) != d.heads || v.dim(2) != d.heads ||
      k.dim(3) != d.key_dim || v.dim(1) != d.keys)
    fail("attention: query ", q.shape(), ", key ", k.shape(), " and value ", v.shape(),
         " do not agree in batch, heads, key steps or key dimension");
  if (d.key_dim < 1) fail("attention: the key dimension must be >= 1, got ", q.shape());
  if (q.dtype() != k.dtype() || q.dtype() != v.dtype()) fail("attention: query, key and value must share a dtype");
  if (s.key_mask.defined() && s.key_mask.shape() != Shape{d.batch, d.keys})
    fail("attention: the key mask must be (batch, key steps) = (", d.batch, ", ", d.keys, "), got ",
         s.key_mask.shape());
  if (!(s.dropout >= 0 && s.dropout < 1)) fail("attention: dropout must be in [0, 1), got ", s.dropout);
  if (s.block < 1) fail("attention: block must be >= 1, got ", s.block);
  return d;
}

// Whether a dropout of `rate` keeps probability (b, h, i, j), drawn from the seed and the
// position (kernels/position_hash.h) so that backward makes the same choices.
bool kept(const AttentionSettings& s, const Dims& d, int64_t b, int64_t h, int64_t i, int64_t j) {
  return position_uniform(s.seed, static_cast<uint64_t>(((b * d.heads + h) * d.queries + i) * d.keys + j)) >= s.dropout;
}

// Which keys queries of batch b see: the mask row (or null) and the causal bound.
struct Visibility {
  const float* mask;  // (Tk,) or null
  bool causal;
  int64_t offset;
  bool operator()(int64_t i, int64_t j) const { return (!causal || j <= i + offset) && (!mask || mask[j] != 0); }
  // Keys [0, end) hold every key some query of [i0, i1) sees.
  int64_t end(int64_t i1, int64_t keys) const { return causal ? std::clamp<int64_t>(i1 + offset, 0, keys) : keys; }
  // Sets the scores of row i (keys [j0, j0 + cols)) that query i does not see to -inf.
  template <class T>
  void hide(T* row, int64_t i, int64_t j0, int64_t cols) const {
    const int64_t seen = causal ? std::clamp<int64_t>(i + offset + 1 - j0, 0, cols) : cols;
    for (int64_t c = seen; c < cols; ++c) row[c] = -std::numeric_limits<T>::infinity();
    if (mask)
      for (int64_t c = 0; c < seen; ++c)
        if (mask[j0 + c] == 0) row[c] = -std::numeric_limits<T>::infinity();
  }
};

// row[c] = exp(row[c] - shift); -inf gives 0.
template <class T>
void exp_shifted(T* row, int64_t cols, T shift) {
  if constexpr (std::is_same_v<T, float>)
    for (int64_t c = 0; c < cols; ++c) row[c] = fast_exp(row[c] - shift);
  else
    for (int64_t c = 0; c < cols; ++c) row[c] = std::exp(row[c] - shift);
}

// In eight running maxima, as lane_sum's sums.
template <class T>
T row_max(const T* row, int64_t cols) {
  constexpr T lowest = -std::numeric_limits<T>::infinity();
  T lanes[8] = {lowest, lowest, lowest, lowest, lowest, lowest, lowest, lowest};
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8)
    for (int lane = 0; lane < 8; ++lane) lanes[lane] = lanes[lane] > row[c + lane] ? lanes[lane] : row[c + lane];
  T top = lowest;
  for (; c < cols; ++c) top = std::max(top, row[c]);
  for (T lane : lanes) top = std::max(top, lane);
  return top;
}


// The mask as float 0/1 (B, Tk), whatever its dtype, or undefined.
Tensor mask_as_float(const Tensor& mask) { return mask.defined() ? mask.to(DType::f32) : Tensor(); }

// s (rows, cols) = scale * q rows [i0, i0 + rows) . k rows [j0, j0 + cols) of head (b, h).
template <class T>
void scores(const T* q, const T* k, const Dims& d, double scale, int64_t i0, int64_t rows, int64_t j0, int64_t cols,
            T* s) {
  gemm<T>(false, true, rows, cols, d.key_dim, static_cast<T>(scale), q + i0 * d.qk_stride(), d.qk_stride(),
          k + j0 * d.qk_stride(), d.qk_stride(), T(0), s, cols);
}

template <class T>
void forward_typed(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionSettings& s, const Dims& d,
                   AttentionSaved& saved) {
  const bool plain = s.keep_probabilities;
  const int64_t query_block = plain ? std::max<int64_t>(d.queries, 1) : s.block;
  const int64_t key_block = plain ? std::max<int64_t>(d.keys, 1) : s.block;
  const Tensor mask = mask_as_float(s.key_mask);
  const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>();
  T* po = saved.out.data<T>();
  T* pp = plain ? saved.probabilities.data<T>() : nullptr;
  double* plse = saved.log_sum_exp.data<double>();
  const double inf = std::numeric_limits<double>::infinity(), keep_scale = 1.0 / (1.0 - s.dropout);
  // Work per head in parallel_for's units (an element of a pass): a multiply-add in a
  // GEMM costs about an eighth of one, and a single query (generation) stays on one thread.
  const int64_t cost = d.queries * d.keys * (d.key_dim + d.value_dim) / 8 + 1;
  parallel_for(d.batch * d.heads, cost, [&](int64_t begin, int64_t end) {
    std::vector<T> block(static_cast<size_t>(query_block * key_block)), acc(static_cast<size_t>(query_block * d.value_dim));
    std::vector<double> m(static_cast<size_t>(query_block)), l(static_cast<size_t>(query_block));
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / d.heads, h = bh % d.heads;
      const T* qh = pq + b * d.queries * d.qk_stride() + h * d.key_dim;
      const T* kh = pk + b * d.keys * d.qk_stride() + h * d.key_dim;
      const T* vh = pv + b * d.keys * d.v_stride() + h * d.value_dim;
      T* oh = po + b * d.queries * d.v_stride() + h * d.value_dim;
      const Visibility sees{mask.defined() ? mask.data<float>() + b * d.keys : nullptr, s.causal, d.offset()};
      for (int64_t i0 = 0; i0 < d.queries; i0 += query_block) {
        const int64_t rows = std::min(query_block, d.queries - i0), key_end = sees.end(i0 + rows, d.keys);
        std::fill(m.begin(), m.end(), -inf);
        std::fill(l.begin(), l.end(), 0.0);
        std::fill(acc.begin(), acc.end(), T(0));
        for (int64_t j0 = 0; j0 < key_end; j0 += key_block) {
          const int64_t cols = std::min(key_block, key_end - j0);
          T* sb = block.data();
          scores(qh, kh, d, s.scale, i0, rows, j0, cols, sb);
          // Online softmax: fold this block into each row's running max m and sum l,
          // rescaling what acc holds when the max grows; sb becomes exp(s - m).
          for (int64_t a = 0; a < rows; ++a) {
            T* row = sb + a * cols;
            sees.hide(row, i0 + a, j0, cols);
            const double top = std::max(m[a], static_cast<double>(row_max(row, cols)));
            if (top == -inf) {
              std::fill(row, row + cols, T(0));
              continue;
            }
            const double rescale = std::exp(m[a] - top);
            exp_shifted(row, cols, static_cast<T>(top));
            l[a] = l[a] * rescale + lane_sum<T>(cols, [&](int64_t c) { return row[c]; });
            m[a] = top;
            if (rescale != 1.0)
              for (int64_t e = 0; e < d.value_dim; ++e) acc[a * d.value_dim + e] *= static_cast<T>(rescale);
          }
          if (plain)  // one block: m and l are final, so sb / l are the probabilities
            for (int64_t a = 0; a < rows; ++a) {
              T* kept_row = pp + (bh * d.queries + i0 + a) * d.keys + j0;
              const double inv = l[a] > 0 ? 1.0 / l[a] : 0.0;
              for (int64_t c = 0; c < cols; ++c) kept_row[c] = static_cast<T>(sb[a * cols + c] * inv);
            }
          if (s.dropout > 0)
            for (int64_t a = 0; a < rows; ++a)
              for (int64_t c = 0; c < cols; ++c) {
                T& p = sb[a * cols + c];
                p = kept(s, d, b, h, i0 + a, j0 + c) ? static_cast<T>(p * keep_scale) : T(0);
              }
          gemm<T>(false, false, rows, d.value_dim, cols, T(1), sb, cols, vh + j0 * d.v_stride(), d.v_stride(), T(1),
                  acc.data(), d.value_dim);
        }
        for (int64_t a = 0; a < rows; ++a) {
          const double inv = l[a] > 0 ? 1.0 / l[a] : 0.0;
          T* out_row = oh + (i0 + a) * d.v_stride();
          for (int64_t e = 0; e < d.value_dim; ++e) out_row[e] = static_cast<T>(acc[a * d.value_dim + e] * inv);
          plse[bh * d.queries + i0 + a] = l[a] > 0 ? m[a] + std::log(l[a]) : inf;
        }
      }
    }
  });
}

template <class T>
void backward_typed(const Tensor& g, const Tensor& q, const Tensor& k, const Tensor& v, const AttentionSaved& saved,
                    const AttentionSettings& s, const Dims& d, AttentionGradients& grads) {
  const bool plain = saved.probabilities.defined();
  const int64_t query_block = plain ? std::max<int64_t>(d.queries, 1) : s.block;
  const int64_t key_block = plain ? std::max<int64_t>(d.keys, 1) : s.block;
  const Tensor mask = mask_as_float(s.key_mask);
  const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>(), *pg = g.data<T>(), *po = saved.out.data<T>();
  const T* pp = plain ? saved.probabilities.data<T>() : nullptr;
  const double* plse = saved.log_sum_exp.data<double>();
  T *dq = grads.query.data<T>(), *dk = grads.key.data<T>(), *dv = grads.value.data<T>();
  const double keep_scale = 1.0 / (1.0 - s.dropout);
  const int64_t cost = d.queries * d.keys * (d.key_dim + d.value_dim) / 4 + 1;  // twice the forward's
  parallel_for(d.batch * d.heads, cost, [&](int64_t begin, int64_t end) {
    const size_t area = static_cast<size_t>(query_block * key_block);
    std::vector<T> probabilities(area), dropped(area), dp(area);
    std::vector<double> row_dot(static_cast<size_t>(d.queries));
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / d.heads, h = bh % d.heads;
      const int64_t q_at = b * d.queries * d.qk_stride() + h * d.key_dim;
      const int64_t k_at = b * d.keys * d.qk_stride() + h * d.key_dim;
      const int64_t v_at = b * d.keys * d.v_stride() + h * d.value_dim;
      const int64_t o_at = b * d.queries * d.v_stride() + h * d.value_dim;
      const Visibility sees{mask.defined() ? mask.data<float>() + b * d.keys : nullptr, s.causal, d.offset()};
      // row_dot[i] = dout_i . out_i = sum_j p_ij dp_ij, the softmax gradient's shift.
      for (int64_t i = 0; i < d.queries; ++i) {
        double dot = 0;
        for (int64_t e = 0; e < d.value_dim; ++e)
          dot += static_cast<double>(pg[o_at + i * d.v_stride() + e]) * po[o_at + i * d.v_stride() + e];
        row_dot[i] = dot;
      }
      for (int64_t i0 = 0; i0 < d.queries; i0 += query_block) {
        const int64_t rows = std::min(query_block, d.queries - i0), key_end = sees.end(i0 + rows, d.keys);
        for (int64_t j0 = 0; j0 < key_end; j0 += key_block) {
          const int64_t cols = std::min(key_block, key_end - j0);
          T* p = probabilities.data();
          if (plain) {
            for (int64_t a = 0; a < rows; ++a)
              std::copy_n(pp + (bh * d.queries + i0 + a) * d.keys + j0, cols, p + a * cols);
          } else {  // recompute: p = exp(s - log_sum_exp)
            scores(pq + q_at, pk + k_at, d, s.scale, i0, rows, j0, cols, p);
            for (int64_t a = 0; a < rows; ++a) {
              sees.hide(p + a * cols, i0 + a, j0, cols);
              exp_shifted(p + a * cols, cols, static_cast<T>(plse[bh * d.queries + i0 + a]));
            }
          }
          // What multiplied v: p with dropout applied.
          const T* used = p;
          if (s.dropout > 0) {
            for (int64_t a = 0; a < rows; ++a)
              for (int64_t c = 0; c < cols; ++c)
                dropped[a * cols + c] =
                    kept(s, d, b, h, i0 + a, j0 + c) ? static_cast<T>(p[a * cols + c] * keep_scale) : T(0);
            used = dropped.data();
          }
          // dv += used^T dout;  dp = dout v^T
          gemm<T>(true, false, cols, d.value_dim, rows, T(1), used, cols, pg + o_at + i0 * d.v_stride(), d.v_stride(),
                  T(1), dv + v_at + j0 * d.v_stride(), d.v_stride());
          gemm<T>(false, true, rows, cols, d.value_dim, T(1), pg + o_at + i0 * d.v_stride(), d.v_stride(),
                  pv + v_at + j0 * d.v_stride(), d.v_stride(), T(0), dp.data(), cols);
          // ds = p * (dp (through dropout) - row_dot), in dp.
          if (s.dropout > 0)
            for (int64_t a = 0; a < rows; ++a)
              for (int64_t c = 0; c < cols; ++c)
                if (!kept(s, d, b, h, i0 + a, j0 + c)) dp[a * cols + c] = T(0);
          for (int64_t a = 0; a < rows; ++a) {
            const T shift = static_cast<T>(row_dot[i0 + a]), keep = static_cast<T>(s.dropout > 0 ? keep_scale : 1.0);
            T* grad = dp.data() + a * cols;
            const T* pa = p + a * cols;
            for (int64_t c = 0; c < cols; ++c) grad[c] = pa[c] * (grad[c] * keep - shift);
          }
          // dq += scale ds k;  dk += scale ds^T q
          gemm<T>(false, false, rows, d.key_dim, cols, static_cast<T>(s.scale), dp.data(), cols,
                  pk + k_at + j0 * d.qk_stride(), d.qk_stride(), T(1), dq + q_at + i0 * d.qk_stride(), d.qk_stride());
          gemm<T>(true, false, cols, d.key_dim, rows, static_cast<T>(s.scale), dp.data(), cols,
                  pq + q_at + i0 * d.qk_stride(), d.qk_stride(), T(1), dk + k_at + j0 * d.qk_stride(), d.qk_stride());
        }
      }
    }
  });
}

}  // namespace

AttentionSaved attention_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                 const AttentionSettings& s) {
  const Dims d = dims_of(q, k, v, s);
  AttentionSaved saved;
  saved.out = Tensor::empty(Shape{d.batch, d.queries, d.heads, d.value_dim}, q.dtype());
  saved.log_sum_exp = Tensor::empty(Shape{d.batch, d.heads, d.queries}, DType::f64);
  if (s.keep_probabilities) saved.probabilities = Tensor::zeros(Shape{d.batch, d.heads, d.queries, d.keys}, q.dtype());
  dispatch(q.dtype(), [&](auto zero) { forward_typed<decltype(zero)>(q, k, v, s, d, saved); });
  return saved;
}

AttentionGradients attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                                      const AttentionSaved& saved, const AttentionSettings& s) {
  const Dims d = dims_of(q, k, v, s);
  AttentionGradients grads{Tensor::zeros(q.shape(), q.dtype()), Tensor::zeros(k.shape(), k.dtype()),
                           Tensor::zeros(v.shape(), v.dtype())};
  dispatch(q.dtype(), [&](auto zero) { backward_typed<decltype(zero)>(grad_out, q, k, v, saved, s, d, grads); });
  return grads;
}

// ---- reference ----

namespace {

// p (B, H, Tq, Tk) in double, after softmax and before dropout; rows that see no key are 0.
std::vector<double> naive_probabilities(const Tensor& q, const Tensor& k, const AttentionSettings& s, const Dims& d) {
  const std::vector<double> qv = q.to_vector(), kv = k.to_vector();
  const Tensor mask = mask_as_float(s.key_mask);
  std::vector<double> p(static_cast<size_t>(d.batch * d.heads * d.queries * d.keys), 0.0);
  for (int64_t b = 0; b < d.batch; ++b)
    for (int64_t h = 0; h < d.heads; ++h)
      for (int64_t i = 0; i < d.queries; ++i) {
        const Visibility sees{mask.defined() ? mask.data<float>() + b * d.keys : nullptr, s.causal, d.offset()};
        double* row = p.data() + ((b * d.heads + h) * d.queries + i) * d.keys;
        double top = -std::numeric_limits<double>::infinity(), total = 0;
        for (int64_t j = 0; j < d.keys; ++j) {
          if (!sees(i, j)) continue;
          double dot = 0;
          for (int64_t e = 0; e < d.key_dim; ++e)
            dot += qv[((b * d.queries + i) * d.heads + h) * d.key_dim + e] *
                   kv[((b * d.keys + j) * d.heads + h) * d.key_dim + e];
          row[j] = s.scale * dot;
          top = std::max(top, row[j]);
        }
        for (int64_t j = 0; j < d.keys; ++j) {
          row[j] = sees(i, j) ? std::exp(row[j] - top) : 0.0;
          total += row[j];
        }
        for (int64_t j = 0; j < d.keys; ++j) row[j] = total > 0 ? row[j] / total : 0.0;
      }
  return p;
}

double keep_factor(const AttentionSettings& s, const Dims& d, int64_t b, int64_t h, int64_t i, int64_t j) {
  if (s.dropout == 0) return 1.0;
  return kept(s, d, b, h, i, j) ? 1.0 / (1.0 - s.dropout) : 0.0;
}

}  // namespace

Tensor attention_forward_naive(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionSettings& s) {
  const Dims d = dims_of(q, k, v, s);
  const std::vector<double> p = naive_probabilities(q, k, s, d), vv = v.to_vector();
  std::vector<double> out(static_cast<size_t>(d.batch * d.queries * d.heads * d.value_dim), 0.0);
  for (int64_t b = 0; b < d.batch; ++b)
    for (int64_t h = 0; h < d.heads; ++h)
      for (int64_t i = 0; i < d.queries; ++i)
        for (int64_t j = 0; j < d.keys; ++j) {
          const double w = p[((b * d.heads + h) * d.queries + i) * d.keys + j] * keep_factor(s, d, b, h, i, j);
          for (int64_t e = 0; e < d.value_dim; ++e)
            out[((b * d.queries + i) * d.heads + h) * d.value_dim + e] +=
                w * vv[((b * d.keys + j) * d.heads + h) * d.value_dim + e];
        }
  return Tensor::from(out, Shape{d.batch, d.queries, d.heads, d.value_dim}).to(q.dtype());
}

AttentionGradients attention_backward_naive(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                                            const AttentionSettings& s) {
  const Dims d = dims_of(q, k, v, s);
  const std::vector<double> p = naive_probabilities(q, k, s, d), qv = q.to_vector(), kv = k.to_vector(),
                            vv = v.to_vector(), g = grad_out.to_vector();
  std::vector<double> dq(qv.size(), 0.0), dk(kv.size(), 0.0), dv(vv.size(), 0.0);
  auto qi = [&](int64_t b, int64_t i, int64_t h, int64_t e) { return ((b * d.queries + i) * d.heads + h) * d.key_dim + e; };
  auto kj = [&](int64_t b, int64_t j, int64_t h, int64_t e) { return ((b * d.keys + j) * d.heads + h) * d.key_dim + e; };
  auto vj = [&](int64_t b, int64_t j, int64_t h, int64_t e) { return ((b * d.keys + j) * d.heads + h) * d.value_dim + e; };
  auto oi = [&](int64_t b, int64_t i, int64_t h, int64_t e) {
    return ((b * d.queries + i) * d.heads + h) * d.value_dim + e;
  };
  std::vector<double> dp(static_cast<size_t>(d.keys));
  for (int64_t b = 0; b < d.batch; ++b)
    for (int64_t h = 0; h < d.heads; ++h)
      for (int64_t i = 0; i < d.queries; ++i) {
        const double* row = p.data() + ((b * d.heads + h) * d.queries + i) * d.keys;
        double shift = 0;  // sum_j p_ij dp_ij
        for (int64_t j = 0; j < d.keys; ++j) {
          const double keep = keep_factor(s, d, b, h, i, j);
          double dot = 0;
          for (int64_t e = 0; e < d.value_dim; ++e) {
            dv[vj(b, j, h, e)] += row[j] * keep * g[oi(b, i, h, e)];
            dot += g[oi(b, i, h, e)] * vv[vj(b, j, h, e)];
          }
          dp[j] = dot * keep;
          shift += row[j] * dp[j];
        }
        for (int64_t j = 0; j < d.keys; ++j) {
          const double ds = row[j] * (dp[j] - shift) * s.scale;
          for (int64_t e = 0; e < d.key_dim; ++e) {
            dq[qi(b, i, h, e)] += ds * kv[kj(b, j, h, e)];
            dk[kj(b, j, h, e)] += ds * qv[qi(b, i, h, e)];
          }
        }
      }
  return {Tensor::from(dq, q.shape()).to(q.dtype()), Tensor::from(dk, k.shape()).to(k.dtype()),
          Tensor::from(dv, v.shape()).to(v.dtype())};
}

}  // namespace axon::kernels
