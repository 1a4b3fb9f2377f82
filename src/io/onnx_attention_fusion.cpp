// Attention fusion: finds multi-head attention written out as ONNX operators and puts
// one fused node in its place (op kFusedAttention in domain kAxonDomain), which the
// importer turns into axon's MultiHeadAttention. Exporters cannot write attention as
// one standard operator; what they write splits the batch into heads (torch's
// (T, B*H, D)), which no axon layer computes step by step.
//
// The pattern, from each Softmax(axis=-1) back and forward:
//   scores = MatMul(q', k') [Mul/Div by a scalar] [Add a constant causal mask]
//   out    = MatMul(Softmax(scores) [Dropout/Identity], v')
//   q', k', v': Transpose / Reshape / Mul or Div by a scalar of a projection, which is
//     MatMul(x, W) [+ b], or a third of torch's packed in_proj (Slice of one such)
//   out -> Transpose / Reshape -> output projection (MatMul [+ b], or Gemm then Reshape)
// The scale gives the key dimension (1/sqrt(key_dim)), and with it the number of heads.
// What is matched is removed, and with it the shape computations only it read.
#include "io/onnx_attention_fusion.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "axon/tensor_ops.h"
#include "io/onnx_node.h"
#include "io/onnx_tensor.h"
#include "kernels/layout.h"

namespace axon::detail {

namespace {

constexpr int kMaxChain = 12;  // nodes walked through between two parts of the pattern

class PatternGraph {
 public:
  PatternGraph(onnx::GraphProto& graph, const OnnxTensorSource& source) : graph_(graph), source_(source) {
    for (int n = 0; n < graph.node_size(); ++n) {
      index_[&graph.node(n)] = n;
      for (const std::string& out : graph.node(n).output())
        if (!out.empty()) producer_[out] = n;  // "" is no tensor
      for (const std::string& in : graph.node(n).input())
        if (!in.empty()) readers_[in].push_back(n);
    }
    for (const onnx::TensorProto& t : graph.initializer())
      if (!t.name().empty()) initializers_[t.name()] = &t;
    for (const onnx::ValueInfoProto& o : graph.output()) outputs_.insert(o.name());
  }

  const onnx::NodeProto* producer(const std::string& tensor) const {
    const auto it = producer_.find(tensor);
    return it == producer_.end() ? nullptr : &graph_.node(it->second);
  }
  int index(const onnx::NodeProto* node) const { return index_.at(node); }
  const std::vector<int>& readers(const std::string& tensor) const {
    static const std::vector<int> none;
    const auto it = readers_.find(tensor);
    return it == readers_.end() ? none : it->second;
  }
  // The node that alone reads `tensor` (not a graph output) besides Shape nodes, or null.
  const onnx::NodeProto* sole_reader(const std::string& tensor) const {
    const onnx::NodeProto* sole = nullptr;
    if (outputs_.contains(tensor)) return nullptr;
    for (int r : readers(tensor)) {
      if (graph_.node(r).op_type() == "Shape") continue;
      if (sole) return nullptr;
      sole = &graph_.node(r);
    }
    return sole;
  }
  bool is_output(const std::string& tensor) const { return outputs_.contains(tensor); }

  // The value of a constant tensor: an initializer, a Constant node's, through Identities.
  std::optional<Tensor> constant(const std::string& tensor) const {
    const onnx::TensorProto* t = constant_proto(tensor);
    if (!t) return std::nullopt;
    return tensor_from_onnx(*t, source_, "load_onnx: constant '" + tensor + "'");
  }
  // Whether `tensor` is such a constant (without reading its data).
  bool is_constant(const std::string& tensor) const { return constant_proto(tensor) != nullptr; }

  onnx::GraphProto& proto() { return graph_; }

 private:
  const onnx::TensorProto* constant_proto(const std::string& tensor, int depth = 0) const {
    if (depth > kMaxChain) return nullptr;
    if (const auto it = initializers_.find(tensor); it != initializers_.end()) return it->second;
    const onnx::NodeProto* p = producer(tensor);
    if (!p) return nullptr;
    if (p->op_type() == "Identity" && p->input_size() == 1) return constant_proto(input_of(*p, 0), depth + 1);
    if (p->op_type() == "Constant")
      for (const onnx::AttributeProto& a : p->attribute())
        if (a.name() == "value" && a.has_t()) return &a.t();
    return nullptr;
  }

  onnx::GraphProto& graph_;
  const OnnxTensorSource& source_;
  std::map<const onnx::NodeProto*, int> index_;  // the nodes are not contiguous
  std::map<std::string, int> producer_;
  std::map<std::string, std::vector<int>> readers_;
  std::map<std::string, const onnx::TensorProto*> initializers_;
  std::set<std::string> outputs_;
};

int64_t attribute_int(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  for (const onnx::AttributeProto& a : node.attribute())
    if (a.name() == name && a.type() == onnx::AttributeProto::INT) return a.i();
  return fallback;
}

double attribute_float(const onnx::NodeProto& node, const std::string& name, double fallback) {
  for (const onnx::AttributeProto& a : node.attribute())
    if (a.name() == name && a.type() == onnx::AttributeProto::FLOAT) return a.f();
  return fallback;
}

// A projection x W + b: the graph tensor x, W (in, out) and b (out) or undefined.
struct Projection {
  std::string x;
  Tensor kernel, bias;
};

struct Match {
  std::set<int> nodes;  // removed when the match holds
  double scale = 1;
  Projection query, key, value, output;
  Tensor mask;
  std::string out;  // the tensor the fused node computes
};

class Matcher {
 public:
  explicit Matcher(const PatternGraph& g) : g_(g) {}

  std::optional<Match> at(const onnx::NodeProto& softmax) {
    m_ = Match{};
    if (attribute_int(softmax, "axis", -1) != -1 || softmax.input_size() != 1) return std::nullopt;
    take(softmax);
    // Back from the scores to MatMul(q', k').
    const onnx::NodeProto* p = g_.producer(input_of(softmax, 0));
    for (int steps = 0; p && p->op_type() != "MatMul" && steps < 3; ++steps) {
      if (!scale_or_mask(*p)) return std::nullopt;
      p = g_.producer(other_than_constant(*p));
    }
    if (!p || p->op_type() != "MatMul") return std::nullopt;
    take(*p);
    const auto query = projection_of(input_of(*p, 0), 0), key = projection_of(input_of(*p, 1), 1);
    // Forward: [Dropout/Identity] -> MatMul(., v').
    const onnx::NodeProto* q = g_.sole_reader(output_of(softmax, 0));
    for (int steps = 0; q && (q->op_type() == "Dropout" || q->op_type() == "Identity") && q->output_size() >= 1;
         ++steps) {
      if (steps == kMaxChain) return std::nullopt;
      take(*q);
      q = g_.sole_reader(output_of(*q, 0));
    }
    if (!query || !key || !q || q->op_type() != "MatMul" || input_of(*q, 0) == input_of(*q, 1)) return std::nullopt;
    take(*q);
    const auto value = projection_of(input_of(*q, 1), 2);
    if (!value || !output_projection(output_of(*q, 0))) return std::nullopt;
    m_.query = *query, m_.key = *key, m_.value = *value;
    return m_;
  }

 private:
  void take(const onnx::NodeProto& node) { m_.nodes.insert(g_.index(&node)); }

  // The input of a two-input node that is not a constant.
  std::string other_than_constant(const onnx::NodeProto& node) const {
    return g_.is_constant(input_of(node, 0)) ? input_of(node, 1) : input_of(node, 0);
  }

  // Mul or Div by a scalar (the scale), or Add of a constant (the mask): taken.
  bool scale_or_mask(const onnx::NodeProto& node) {
    if (node.input_size() != 2) return false;
    const std::string& op = node.op_type();
    const bool constant_first = g_.is_constant(input_of(node, 0));
    const std::optional<Tensor> c = g_.constant(constant_first ? input_of(node, 0) : input_of(node, 1));
    if (!c) return false;
    if ((op == "Mul" || (op == "Div" && !constant_first)) && c->numel() == 1) {
      const double v = c->item();
      if (v == 0) return false;
      m_.scale *= op == "Mul" ? v : 1 / v;
    } else if (op == "Add" && !m_.mask.defined()) {
      m_.mask = *c;
    } else {
      return false;
    }
    take(node);
    return true;
  }

  // Back from q', k' or v' through Transpose, Reshape and scaling to its projection.
  // third: 0 query, 1 key, 2 value (which third of a packed projection).
  std::optional<Projection> projection_of(std::string tensor, int64_t third) {
    for (int steps = 0; steps < kMaxChain; ++steps) {
      const onnx::NodeProto* p = g_.producer(tensor);
      if (!p) return std::nullopt;
      const std::string& op = p->op_type();
      if (op == "Transpose" || op == "Reshape") {
        take(*p);
        tensor = input_of(*p, 0);
      } else if (op == "Mul" || op == "Div") {
        if (!scale_or_mask(*p)) return std::nullopt;
        tensor = other_than_constant(*p);
      } else if (op == "Slice") {  // torch's packed in_proj: q, k, v thirds in that order
        take(*p);
        std::optional<Projection> packed = linear_at(input_of(*p, 0));
        if (!packed || packed->kernel.dim(1) % 3 != 0) return std::nullopt;
        const int64_t width = packed->kernel.dim(1) / 3;
        packed->kernel = kernels::slice(packed->kernel, 1, third * width, (third + 1) * width).clone();
        if (packed->bias.defined()) packed->bias = kernels::slice(packed->bias, 0, third * width, (third + 1) * width).clone();
        return packed;
      } else {
        return linear_at(tensor);
      }
    }
    return std::nullopt;
  }

  // MatMul(x, W) [+ b] ending at `tensor`: taken.
  std::optional<Projection> linear_at(const std::string& tensor) {
    const onnx::NodeProto* p = g_.producer(tensor);
    Tensor bias;
    if (p && p->op_type() == "Add" && p->input_size() == 2) {
      const bool constant_first = g_.is_constant(input_of(*p, 0));
      const std::optional<Tensor> b = g_.constant(constant_first ? input_of(*p, 0) : input_of(*p, 1));
      if (!b) return std::nullopt;
      bias = b->reshape({-1}).to(DType::f32);
      take(*p);
      p = g_.producer(constant_first ? input_of(*p, 1) : input_of(*p, 0));
    }
    if (!p || p->op_type() != "MatMul") return std::nullopt;
    const std::optional<Tensor> w = g_.constant(input_of(*p, 1));
    if (!w || w->rank() != 2 || (bias.defined() && bias.numel() != w->dim(1))) return std::nullopt;
    take(*p);
    return Projection{input_of(*p, 0), w->to(DType::f32), bias};
  }

  // From MatMul(P, v') forward: Transpose/Reshape, then the output projection (MatMul
  // [+ Add] or Gemm then Reshape).
  bool output_projection(std::string tensor) {
    for (int steps = 0; steps < kMaxChain; ++steps) {
      const onnx::NodeProto* r = g_.sole_reader(tensor);
      if (!r) return false;
      const std::string& op = r->op_type();
      if (op == "Transpose" || op == "Reshape") {
        take(*r);
        tensor = output_of(*r, 0);
        continue;
      }
      if (op == "Gemm") {
        const std::optional<Tensor> b = g_.constant(input_of(*r, 1));
        if (!b || b->rank() != 2 || attribute_int(*r, "transA", 0) != 0 || attribute_float(*r, "alpha", 1) != 1 ||
            attribute_float(*r, "beta", 1) != 1)
          return false;
        Tensor w = attribute_int(*r, "transB", 0) ? kernels::transpose(*b, 0, 1) : *b;
        Tensor bias;
        if (r->input_size() > 2 && !input_of(*r, 2).empty()) {
          const std::optional<Tensor> c = g_.constant(input_of(*r, 2));
          if (!c || c->numel() != w.dim(1)) return false;
          bias = c->reshape({-1}).to(DType::f32);
        }
        take(*r);
        const onnx::NodeProto* back = g_.sole_reader(output_of(*r, 0));  // (T*B, E) -> (T, B, E)
        if (!back || back->op_type() != "Reshape") return false;
        take(*back);
        m_.output = Projection{"", w.to(DType::f32).clone(), bias};
        m_.out = output_of(*back, 0);
        return true;
      }
      if (op == "MatMul" && input_of(*r, 0) == tensor) {
        const std::optional<Tensor> w = g_.constant(input_of(*r, 1));
        if (!w || w->rank() != 2) return false;
        take(*r);
        m_.output = Projection{"", w->to(DType::f32), Tensor()};
        m_.out = output_of(*r, 0);
        if (const onnx::NodeProto* add = g_.sole_reader(m_.out); add && add->op_type() == "Add" && add->input_size() == 2) {
          const std::string& other = input_of(*add, 0) == m_.out ? input_of(*add, 1) : input_of(*add, 0);
          const std::optional<Tensor> b = g_.constant(other);
          if (b && b->numel() == w->dim(1)) {
            take(*add);
            m_.output.bias = b->reshape({-1}).to(DType::f32);
            m_.out = output_of(*add, 0);
          }
        }
        return true;
      }
      return false;
    }
    return false;
  }

  const PatternGraph& g_;
  Match m_;
};

// Whether mask (Tq, Tk) (leading axes of 1 allowed) is 0 where query i sees key j <= i +
// Tk - Tq and very negative elsewhere: axon's causal attention.
bool is_causal(const Tensor& mask) {
  if (mask.rank() < 2) return false;
  for (int64_t a = 0; a + 2 < mask.rank(); ++a)
    if (mask.dim(a) != 1) return false;
  const int64_t tq = mask.dim(-2), tk = mask.dim(-1);
  const std::vector<double> v = mask.to_vector();
  for (int64_t i = 0; i < tq; ++i)
    for (int64_t j = 0; j < tk; ++j) {
      const double x = v[static_cast<size_t>(i * tk + j)];
      if (j <= i + tk - tq ? x != 0 : x > -1e4) return false;
    }
  return true;
}

void write_initializer(onnx::GraphProto& graph, const std::string& name, const Tensor& value) {
  onnx::TensorProto& t = *graph.add_initializer();
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : value.shape().dims()) t.add_dims(d);
  const Tensor f = value.to(DType::f32).clone();
  t.set_raw_data(f.raw(), static_cast<size_t>(f.numel()) * sizeof(float));
}

// Replaces one match by the fused node; false when the match does not hold (another
// node reads a tensor inside it, or the sizes disagree).
bool fuse(PatternGraph& g, const Match& m, int serial) {
  // Nothing outside the match may read what is inside it, but the result and the Shape
  // nodes that size its Reshapes and Slices (removed with them when nothing else reads
  // what they compute).
  for (int n : m.nodes)
    for (const std::string& out : g.proto().node(n).output()) {
      if (out == m.out) continue;
      if (g.is_output(out)) return false;
      for (int reader : g.readers(out))
        if (!m.nodes.contains(reader) && g.proto().node(reader).op_type() != "Shape") return false;
    }
  const double key_dim_real = 1 / (m.scale * m.scale);
  if (!std::isfinite(key_dim_real) || key_dim_real > 1e9) return false;
  const auto key_dim = static_cast<int64_t>(std::llround(key_dim_real));
  if (key_dim <= 0 || std::abs(key_dim_real - static_cast<double>(key_dim)) > 1e-3 * key_dim_real) return false;
  const int64_t qk_width = m.query.kernel.dim(1);
  if (qk_width % key_dim != 0 || m.key.kernel.dim(1) != qk_width) return false;
  const int64_t heads = qk_width / key_dim;
  if (m.value.kernel.dim(1) % heads != 0 || m.output.kernel.dim(0) != m.value.kernel.dim(1)) return false;
  if (m.key.x != m.value.x || m.key.kernel.dim(0) != m.value.kernel.dim(0)) return false;
  bool causal = false;
  if (m.mask.defined() && !(causal = is_causal(m.mask))) return false;

  onnx::NodeProto fused;
  fused.set_op_type(kFusedAttention);
  fused.set_domain(kAxonDomain);
  fused.set_name("fused_attention_" + std::to_string(serial));
  fused.add_input(m.query.x);
  fused.add_input(m.value.x);
  const std::string prefix = fused.name() + "/";
  const std::pair<const char*, const Projection*> parts[] = {
      {"query", &m.query}, {"key", &m.key}, {"value", &m.value}, {"output", &m.output}};
  for (const auto& [name, p] : parts) {
    write_initializer(g.proto(), prefix + name + "_kernel", p->kernel);
    fused.add_input(prefix + name + "_kernel");
    const Tensor bias = p->bias.defined() ? p->bias : Tensor::zeros(Shape{p->kernel.dim(1)});
    write_initializer(g.proto(), prefix + name + "_bias", bias);
    fused.add_input(prefix + name + "_bias");
  }
  fused.add_output(m.out);
  auto attribute = [&](const char* name, int64_t v) {
    onnx::AttributeProto& a = *fused.add_attribute();
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(v);
  };
  attribute("num_heads", heads);
  attribute("key_dim", key_dim);
  attribute("causal", causal);
  // The matched nodes go; the fused node takes the place of the first.
  auto* nodes = g.proto().mutable_node();
  const int first = *m.nodes.begin();
  *nodes->Mutable(first) = fused;
  for (auto it = m.nodes.rbegin(); it != m.nodes.rend(); ++it)
    if (*it != first) nodes->DeleteSubrange(*it, 1);
  return true;
}

// Removes nodes none of whose outputs is read, over and over (the shape computations
// only the removed Reshapes read).
void remove_unread(onnx::GraphProto& graph) {
  std::set<std::string> outputs;
  for (const onnx::ValueInfoProto& o : graph.output()) outputs.insert(o.name());
  for (bool removed = true; removed;) {
    removed = false;
    std::set<std::string> read = outputs;
    for (const onnx::NodeProto& node : graph.node())
      for (const std::string& in : node.input()) read.insert(in);
    for (int n = graph.node_size() - 1; n >= 0; --n) {
      const onnx::NodeProto& node = graph.node(n);
      if (std::none_of(node.output().begin(), node.output().end(), [&](const std::string& o) { return read.contains(o); })) {
        graph.mutable_node()->DeleteSubrange(n, 1);
        removed = true;
      }
    }
  }
}

}  // namespace

bool fuse_attention(onnx::GraphProto& graph, const OnnxTensorSource& source) {
  bool any = false;
  for (int serial = 0;; ++serial) {
    PatternGraph g(graph, source);
    std::optional<Match> match;
    for (const onnx::NodeProto& node : graph.node()) {
      if (node.op_type() != "Softmax" || !(node.domain().empty() || node.domain() == "ai.onnx")) continue;
      match = Matcher(g).at(node);
      if (match && fuse(g, *match, serial)) break;
      match.reset();
    }
    if (!match) break;
    any = true;
  }
  if (any) remove_unread(graph);
  return any;
}

}  // namespace axon::detail
