// The ONNX operators load_onnx turns into axon layers (see onnx_import.h). Each entry
// reads its node's inputs and attributes with ONNX's defaults, records the layers on
// the graph tensors and sets their weights from the node's constant inputs. Shapes
// here leave out the batch axis (OnnxValue::dims); ONNX axes count it.
#include <numeric>

#include "axon/activations.h"
#include "axon/batch_normalization.h"
#include "axon/conv1d.h"
#include "axon/conv2d.h"
#include "axon/dense.h"
#include "axon/layer_normalization.h"
#include "axon/merge.h"
#include "axon/pooling.h"
#include "axon/positional.h"
#include "axon/rescaling.h"
#include "axon/tensor_ops.h"
#include "io/onnx_node.h"
#include "kernels/layout.h"

namespace axon::detail {

namespace {

using Dims = std::vector<int64_t>;


// Output 0 carries the value of input 0 (Identity, Dropout at inference).
void pass_through(OnnxNode& node) {
  node.only_first_output();
  node.set_output(0, node.value(0));
}

// Dropout: the identity at inference; training_mode (opset 12, input 2) must be false.
void dropout(OnnxNode& node) {
  if (node.has(2) && (!node.value(2).is_constant() || node.constant(2).to_vector().at(0) != 0))
    node.fail("training_mode is true: a random mask at inference; axon imports models for inference and fit()");
  pass_through(node);
}

void activation_layer(OnnxNode& node, const std::string& name) {
  node.set_output(0, OnnxValue::of(node.call(std::make_shared<Activation>(name), {node.tensor(0)}).at(0)));
}

// Softmax and LogSoftmax: axon's run along the last axis. Before opset 13 ONNX flattens
// the axes from `axis` on, which is the last axis only when axis is the last.
void softmax_layer(OnnxNode& node, const std::string& name) {
  const int64_t rank = node.rank(0);
  const int64_t axis = resolve_axis(node, node.integer("axis", node.opset() >= 13 ? -1 : 1), rank);
  if (axis != rank - 1)
    node.fail("axis ", axis, ": axon computes ", name, " along the last axis only (", rank - 1, ")");
  activation_layer(node, name);
}

// Add, Sub, Mul or Div of a graph tensor x and a scalar constant c, in either order (Div:
// x / c only), as y = x * scale + offset: a Rescaling layer. False when the operands are
// not of that form.
bool rescaling_layer(OnnxNode& node) {
  if (node.input_count() != 2 || node.value(0).is_constant() == node.value(1).is_constant()) return false;
  const size_t k = node.value(0).is_constant() ? 0 : 1;
  const std::string& op = node.proto().op_type();
  if (node.constant(k).numel() != 1 || (op == "Div" && k == 0)) return false;
  const double value = node.constant(k).item();
  double scale = 1, offset = 0;
  if (op == "Add")
    offset = value;
  else if (op == "Mul")
    scale = value;
  else if (op == "Div")
    scale = 1 / value;
  else if (k == 0)
    scale = -1, offset = value;  // c - x
  else
    offset = -value;  // x - c
  node.set_output(0, OnnxValue::of(node.call(std::make_shared<Rescaling>(scale, offset), {node.tensor(1 - k)}).at(0)));
  return true;
}

// Add of a graph tensor (batch, steps, features) and a constant of (steps, features),
// as exporters write learned or sine position encodings: a PositionalEmbedding whose
// table is the constant. False when the operands are not of that form.
bool positions_layer(OnnxNode& node) {
  if (node.proto().op_type() != "Add" || node.input_count() != 2 ||
      node.value(0).is_constant() == node.value(1).is_constant())
    return false;
  const size_t k = node.value(0).is_constant() ? 0 : 1;
  const Dims& dims = node.value(1 - k).dims;
  Dims table = node.constant(k).shape().dims();
  if (table.size() == 3 && table[0] == 1) table.erase(table.begin());
  if (dims.size() != 2 || table != dims) return false;
  auto positions = std::make_shared<PositionalEmbedding>(dims[0]);
  node.set_output(0, OnnxValue::of(node.call(positions, {node.tensor(1 - k)}).at(0)));
  node.set_weight(*positions, "embeddings", node.constant(k).reshape({dims[0], dims[1]}).to(DType::f32));
  return true;
}

void merge_layer(OnnxNode& node, std::shared_ptr<Module> layer) {
  if (node.input_count() == 1) return node.set_output(0, node.value(0));  // Sum or Mean of one
  if (rescaling_layer(node) || positions_layer(node)) return;
  std::vector<SymbolicTensor> inputs;
  for (size_t k = 0; k < node.input_count(); ++k) {
    if (!node.value(k).symbolic)
      node.fail("input ", k, " is a constant of shape ", node.value(k).constant.shape(),
                "; axon computes this operator between graph tensors, or with a scalar (a bias after MatMul ",
                "becomes part of its Dense layer)");
    if (node.value(k).dims != node.value(0).dims)
      node.fail("inputs of shapes ", dims_text(node.value(0).dims), " and ", dims_text(node.value(k).dims),
                " (after the batch axis): axon does not broadcast between graph tensors");
    inputs.push_back(node.tensor(k));
  }
  node.set_output(0, OnnxValue::of(node.call(std::move(layer), inputs).at(0)));
}

// Dense from a (in, units) kernel and an optional bias of `units` values (any shape).
void dense_layer(OnnxNode& node, const SymbolicTensor& x, const Tensor& kernel, const Tensor& bias) {
  const int64_t in = kernel.dim(0), units = kernel.dim(1);
  if (x.shape().rank() == 0 || x.shape()[x.shape().rank() - 1] != in)
    node.fail("the input's last axis is ", x.shape().rank() ? x.shape()[x.shape().rank() - 1] : 0,
              " but the weight has ", in, " rows");
  auto dense = std::make_shared<Dense>(units);
  const SymbolicTensor y = node.call(dense, {x}).at(0);
  node.set_weight(*dense, "kernel", kernel);
  if (bias.defined()) {
    if (bias.numel() != units && bias.numel() != 1)
      node.fail("a bias of ", bias.numel(), " values for ", units, " units");
    node.set_weight(*dense, "bias", (Tensor::zeros(Shape{units}) + bias.reshape({-1})).to(DType::f32));
  }
  node.set_output(0, OnnxValue::of(y));
}

// Gemm: Y = alpha * A' B' + beta * C, A the graph tensor (batch, in).
void gemm(OnnxNode& node) {
  if (node.integer("transA", 0) != 0) node.fail("transA = 1 would transpose the batch axis away");
  const SymbolicTensor a = node.tensor(0);
  if (node.rank(0) != 2) node.fail("A must be (batch, features), not of rank ", node.rank(0));
  Tensor b = node.constant(1).to(DType::f32);
  if (b.rank() != 2) node.fail("B must be a matrix, not of shape ", b.shape());
  if (node.integer("transB", 0) != 0) b = kernels::transpose(b, 0, 1);
  const Tensor kernel = (b * node.real("alpha", 1.0)).to(DType::f32);
  Tensor bias;
  if (node.has(2)) bias = (node.constant(2).to(DType::f32) * node.real("beta", 1.0)).to(DType::f32);
  dense_layer(node, a, kernel, bias);
}

// MatMul of a graph tensor (..., in) by a constant (in, units), with the Add of a bias
// that alone reads its output folded into the same Dense layer.
void matmul(OnnxNode& node) {
  if (!node.value(0).symbolic || !node.value(1).is_constant())
    node.fail(
        "axon computes a graph tensor times a constant matrix (the weights); a product of two graph tensors is not "
        "supported");
  const Tensor kernel = node.constant(1).to(DType::f32);
  if (kernel.rank() != 2) node.fail("the weight must be a matrix, not of shape ", kernel.shape());
  Tensor bias;
  const onnx::NodeProto* add = node.sole_reader(0);
  if (add && add->op_type() == "Add" && add->input_size() == 2) {
    const int other = add->input(0) == node.proto().output(0) ? 1 : 0;
    const auto* value = node.find_value(add->input(other));
    if (value && value->is_constant() && value->constant.rank() >= 1 && value->constant.numel() == kernel.dim(1) &&
        value->constant.shape().dims().back() == kernel.dim(1)) {
      bias = value->constant.to(DType::f32);
      node.absorb(*add);
    }
  }
  dense_layer(node, node.tensor(0), kernel, bias);
}

// The explicit padding of a window over `spatial` sizes: ONNX's [begin..., end...].
Dims window_pads(const OnnxNode& node, const Dims& spatial, const Dims& kernel, const Dims& strides,
                 const Dims& dilations) {
  const size_t n = spatial.size();
  const std::string auto_pad = node.text("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    Dims pads = node.integers("pads", Dims(2 * n, 0));
    if (pads.size() != 2 * n) node.fail("pads has ", pads.size(), " values, expected ", 2 * n);
    for (int64_t p : pads)
      if (p < 0) node.fail("negative padding ", p);
    return pads;
  }
  if (auto_pad == "VALID") return Dims(2 * n, 0);
  if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER") node.fail("auto_pad '", auto_pad, "' is not known");
  Dims pads(2 * n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t out = (spatial[i] + strides[i] - 1) / strides[i];
    const int64_t total =
        std::max<int64_t>(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - spatial[i]);
    const int64_t small = total / 2, large = total - small;
    pads[i] = auto_pad == "SAME_UPPER" ? small : large;
    pads[i + n] = auto_pad == "SAME_UPPER" ? large : small;
  }
  return pads;
}

// Strides, dilations (each >= 1, `n` of them) and the explicit padding of a Conv or pool.
struct WindowAttributes {
  Dims kernel, strides, dilations, pads;
};

WindowAttributes window_attributes(const OnnxNode& node, const Dims& spatial, const Dims& kernel) {
  const size_t n = spatial.size();
  WindowAttributes w{kernel, node.integers("strides", Dims(n, 1)), node.integers("dilations", Dims(n, 1)), {}};
  if (kernel.size() != n || w.strides.size() != n || w.dilations.size() != n)
    node.fail("kernel_shape, strides and dilations need ", n, " values each for a ", n, "-D window");
  for (size_t i = 0; i < n; ++i)
    if (w.kernel[i] < 1 || w.strides[i] < 1 || w.dilations[i] < 1)
      node.fail("kernel sizes, strides and dilations must be >= 1");
  w.pads = window_pads(node, spatial, kernel, w.strides, w.dilations);
  return w;
}

Window window_of(const WindowAttributes& w) {
  if (w.kernel.size() == 1)  // a sequence runs as an image of height 1
    return {.strides = Size2(1, w.strides[0]),
            .padding = std::array<int64_t, 4>{0, 0, w.pads[0], w.pads[1]},
            .dilation = Size2(1, w.dilations[0])};
  return {.strides = Size2(w.strides[0], w.strides[1]),
          .padding = std::array<int64_t, 4>{w.pads[0], w.pads[2], w.pads[1], w.pads[3]},
          .dilation = Size2(w.dilations[0], w.dilations[1])};
}

// Conv: X (N, C, L) or (N, C, H, W), W (M, C, k...) as axon's Conv1D/Conv2D kernels, B (M).
void conv(OnnxNode& node) {
  const SymbolicTensor x = node.tensor(0);
  const Dims& dims = node.value(0).dims;  // x's, but for merged steps (OnnxValue::merged_steps)
  if (dims.size() != 2 && dims.size() != 3)
    node.fail("axon convolves (N, C, L) and (N, C, H, W) tensors, not rank ", dims.size() + 1);
  if (node.integer("group", 1) != 1)
    node.fail("grouped convolution (group ", node.integer("group", 1), ") is not supported");
  const Tensor kernel = node.constant(1).to(DType::f32);
  if (kernel.rank() != static_cast<int64_t>(dims.size()) + 1 || kernel.dim(1) != dims[0])
    node.fail("a weight of shape ", kernel.shape(), " for an input of ", dims[0], " channels");
  const Dims kernel_size(kernel.shape().dims().begin() + 2, kernel.shape().dims().end());
  if (node.has_attribute("kernel_shape") && node.integers("kernel_shape", {}) != kernel_size)
    node.fail("kernel_shape differs from the weight's shape");
  const WindowAttributes w = window_attributes(node, Dims(dims.begin() + 1, dims.end()), kernel_size);
  std::shared_ptr<Module> layer;
  if (dims.size() == 2)
    layer = std::make_shared<Conv1D>(kernel.dim(0), kernel_size[0], "linear", window_of(w));
  else
    layer = std::make_shared<Conv2D>(kernel.dim(0), Size2(kernel_size[0], kernel_size[1]), "linear", window_of(w));
  const SymbolicTensor y = node.call(layer, {x}).at(0);
  node.set_weight(*layer, "kernel", kernel);
  node.set_weight(*layer, "bias", node.has(2) ? node.constant(2).to(DType::f32) : Tensor::zeros(Shape{kernel.dim(0)}));
  node.set_output(0, OnnxValue::of(y));
}

void pool(OnnxNode& node, Pool2D::Kind kind) {
  const SymbolicTensor x = node.tensor(0);
  const Dims& dims = node.value(0).dims;
  if (dims.size() != 3) node.fail("axon pools (N, C, H, W) images, not tensors of rank ", dims.size() + 1);
  if (node.integer("ceil_mode", 0) != 0) node.fail("ceil_mode = 1 is not supported");
  const WindowAttributes w = window_attributes(node, {dims[1], dims[2]}, node.integers("kernel_shape", {}));
  if (w.dilations != Dims{1, 1}) node.fail("dilated pooling is not supported");
  const bool padded = std::any_of(w.pads.begin(), w.pads.end(), [](int64_t p) { return p > 0; });
  if (kind == Pool2D::Kind::average && padded && node.integer("count_include_pad", 0) != 0)
    node.fail("count_include_pad = 1 with padding: axon's average leaves the padding out");
  const Size2 size(w.kernel[0], w.kernel[1]);
  const std::array<int64_t, 2> strides{w.strides[0], w.strides[1]};
  const Padding padding = window_of(w).padding;
  std::shared_ptr<Module> layer;
  if (kind == Pool2D::Kind::max)
    layer = std::make_shared<MaxPool2D>(size, strides, padding);
  else
    layer = std::make_shared<AveragePool2D>(size, strides, padding);
  node.only_first_output();  // MaxPool's indices
  node.set_output(0, OnnxValue::of(node.call(layer, {x}).at(0)));
}

// (N, C, H, W) -> (N, C, 1, 1): axon's layer gives (N, C), the ones a pending reshape.
void global_average_pool(OnnxNode& node) {
  if (node.value(0).dims.size() != 3) node.fail("axon pools (N, C, H, W) images, not tensors of rank ", node.rank(0));
  OnnxValue y = OnnxValue::of(node.call(std::make_shared<GlobalAveragePool2D>(), {node.tensor(0)}).at(0));
  y.dims = {y.dims[0], 1, 1};
  node.set_output(0, y);
}

void batch_normalization(OnnxNode& node) {
  if (node.integer("training_mode", 0) != 0) node.fail("training_mode = 1 is not supported; export in eval mode");
  const SymbolicTensor x = node.tensor(0);
  if (node.rank(0) != 2 && node.rank(0) != 4)
    node.fail("axon normalizes (N, C) and (N, C, H, W) tensors, not rank ", node.rank(0));
  node.only_first_output();
  auto layer = std::make_shared<BatchNormalization>(node.real("momentum", 0.9), node.real("epsilon", 1e-5));
  const SymbolicTensor y = node.call(layer, {x}).at(0);
  const char* names[] = {"gamma", "beta", "moving_mean", "moving_variance"};
  for (size_t k = 0; k < 4; ++k) node.set_weight(*layer, names[k], node.constant(k + 1).to(DType::f32));
  node.set_output(0, OnnxValue::of(y));
}

// LayerNormalization (opset 17) over the last axis, with constant scale and bias.
void layer_normalization(OnnxNode& node) {
  const int64_t rank = node.rank(0);
  if (resolve_axis(node, node.integer("axis", -1), rank) != rank - 1)
    node.fail("axon normalizes over the last axis only");
  node.only_first_output();  // the mean and inverse deviation
  auto layer = std::make_shared<LayerNormalization>(node.real("epsilon", 1e-5));
  const SymbolicTensor y = node.call(layer, {node.tensor(0)}).at(0);
  node.set_weight(*layer, "gamma", node.constant(1).to(DType::f32));
  node.set_weight(*layer, "beta",
                  node.has(2) ? node.constant(2).to(DType::f32) : Tensor::zeros(Shape{node.value(0).dims.back()}));
  node.set_output(0, OnnxValue::of(y));
}

void concat(OnnxNode& node) {
  const int64_t axis = feature_axis(node, node.integer("axis", 0), node.rank(0));
  std::vector<SymbolicTensor> inputs;
  for (size_t k = 0; k < node.input_count(); ++k) {
    if (!node.value(k).symbolic) node.fail("input ", k, " is a constant; axon joins graph tensors only");
    inputs.push_back(node.tensor(k));
  }
  node.set_output(0, OnnxValue::of(node.call(std::make_shared<Concatenate>(axis), inputs).at(0)));
}

// A constant operand of `node` that is one number near `value`.
bool is_number(const OnnxNode& node, const onnx::NodeProto& reader, const std::string& computed, double value) {
  if (reader.input_size() != 2) return false;
  const OnnxValue* v = node.find_value(input_of(reader, 0) == computed ? input_of(reader, 1) : input_of(reader, 0));
  return v && v->is_constant() && v->constant.numel() == 1 && std::abs(v->constant.item() - value) < 1e-4;
}

// The next node of a chain: the sole reader of `tensor`, if it is `op`.
const onnx::NodeProto* next(const OnnxNode& node, const std::string& tensor, const std::string& op) {
  const onnx::NodeProto* reader = node.sole_reader(tensor);
  return reader && reader->op_type() == op ? reader : nullptr;
}

// Exact GELU as exporters write it, x * (1 + erf(x / sqrt 2)) / 2: Div -> Erf -> Add 1,
// then Mul by 0.5 and by x in either order (axon's and torch's). Any other Div of a
// graph tensor must be by a scalar constant: a Rescaling layer.
void divide(OnnxNode& node) {
  const std::string& x = input_of(node.proto(), 0);
  const onnx::NodeProto* erf = node.value(0).symbolic && is_number(node, node.proto(), x, std::sqrt(2.0))
                                   ? next(node, output_of(node.proto(), 0), "Erf")
                                   : nullptr;
  const onnx::NodeProto* add = erf ? next(node, output_of(*erf, 0), "Add") : nullptr;
  const onnx::NodeProto* first =
      add && is_number(node, *add, output_of(*erf, 0), 1.0) ? next(node, output_of(*add, 0), "Mul") : nullptr;
  const onnx::NodeProto* second = first ? next(node, output_of(*first, 0), "Mul") : nullptr;
  const auto times_x = [&](const onnx::NodeProto& mul) { return input_of(mul, 0) == x || input_of(mul, 1) == x; };
  const bool half_then_x = first && second && is_number(node, *first, output_of(*add, 0), 0.5) && times_x(*second);
  const bool x_then_half = first && second && times_x(*first) && is_number(node, *second, output_of(*first, 0), 0.5);
  if (!half_then_x && !x_then_half) {
    if (!rescaling_layer(node)) node.fail("axon divides a graph tensor by a scalar constant only");
    return;
  }
  for (const onnx::NodeProto* part : {erf, add, first, second}) node.absorb(*part);
  activation_layer(node, "gelu");
}

// Pad of zeros only (torch writes one before some pools): a real padding fails.
void pad(OnnxNode& node) {
  if (node.text("mode", "constant") != "constant") node.fail("mode '", node.text("mode", ""), "' is not supported");
  const Dims pads = node.opset() >= 11 ? integer_values(node.constant(1)) : node.integers("pads", {});
  if (std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p != 0; }))
    node.fail("padding as its own operator is not supported (pads ", dims_text(pads),
              "); axon pads inside Conv and the pools");
  node.set_output(0, node.value(0));
}

}  // namespace

namespace {

const std::map<std::string, OnnxOperator>& layer_operators() {
  static const std::map<std::string, OnnxOperator> operators = {
      {"Gemm", gemm},
      {"MatMul", matmul},
      {"Conv", conv},
      {"BatchNormalization", batch_normalization},
      {"LayerNormalization", layer_normalization},
      {"MaxPool", [](OnnxNode& n) { pool(n, Pool2D::Kind::max); }},
      {"AveragePool", [](OnnxNode& n) { pool(n, Pool2D::Kind::average); }},
      {"GlobalAveragePool", global_average_pool},
      {"Relu", [](OnnxNode& n) { activation_layer(n, "relu"); }},
      {"Sigmoid", [](OnnxNode& n) { activation_layer(n, "sigmoid"); }},
      {"Tanh", [](OnnxNode& n) { activation_layer(n, "tanh"); }},
      {"Elu",
       [](OnnxNode& n) {
         if (n.real("alpha", 1.0) != 1.0) n.fail("alpha ", n.real("alpha", 1.0), ": axon's elu has alpha 1");
         activation_layer(n, "elu");
       }},
      {"LeakyRelu",
       [](OnnxNode& n) {
         if (std::abs(n.real("alpha", 0.01) - 0.01) > 1e-9)
           n.fail("alpha ", n.real("alpha", 0.01), ": axon's leaky_relu has slope 0.01");
         activation_layer(n, "leaky_relu");
       }},
      {"Softmax", [](OnnxNode& n) { softmax_layer(n, "softmax"); }},
      {"LogSoftmax", [](OnnxNode& n) { softmax_layer(n, "log_softmax"); }},
      {"Add", [](OnnxNode& n) { merge_layer(n, std::make_shared<Add>()); }},
      {"Sub", [](OnnxNode& n) { merge_layer(n, std::make_shared<Subtract>()); }},
      {"Mul", [](OnnxNode& n) { merge_layer(n, std::make_shared<Multiply>()); }},
      {"Sum", [](OnnxNode& n) { merge_layer(n, std::make_shared<Add>()); }},
      {"Mean", [](OnnxNode& n) { merge_layer(n, std::make_shared<Average>()); }},
      {"Concat", concat},
      {"Identity", pass_through},
      {"Dropout", dropout},
      {"Pad", pad},
      {"Div", divide},
      {"Erf", [](OnnxNode& n) { n.fail("Erf is supported as part of GELU, x * (1 + erf(x / sqrt 2)) / 2, only"); }},
  };
  return operators;
}

}  // namespace

const std::map<std::string, OnnxOperator>& onnx_layer_operators() {
  static const std::map<std::string, OnnxOperator> operators = [] {
    std::map<std::string, OnnxOperator> all = onnx_sequence_operators();
    all.insert(layer_operators().begin(), layer_operators().end());
    all.insert(onnx_layout_operators().begin(), onnx_layout_operators().end());
    return all;
  }();
  return operators;
}

}  // namespace axon::detail
