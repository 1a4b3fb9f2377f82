#include "axon/conv1d.h"

#include "axon/checked_math.h"
#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"
#include "kernels/conv.h"

namespace axon {

AXON_REGISTER(Module, "conv1d", Conv1D);

Conv1D::Conv1D(int64_t filters, int64_t kernel_size, const std::string& activation_name, Window window,
               WeightOptions options)
    : filters_(filters),
      kernel_size_(kernel_size),
      activation_name_(activation_name),
      activation_(activation(activation_name)),
      window_(std::move(window)),
      options_(std::move(options)) {
  if (filters < 1) fail("Conv1D: filters must be >= 1, got ", filters);
  if (kernel_size < 1) fail("Conv1D: kernel_size must be >= 1, got ", kernel_size);
  window_.check("Conv1D");
  if (window_.padding.mode == "explicit" && (window_.padding.pads[0] != 0 || window_.padding.pads[1] != 0))
    fail("Conv1D: explicit padding pads the length only: {0, 0, left, right}");
  // Only the length axis slides: one step and no dilation across the height of 1.
  window_.strides.h = window_.dilation.h = 1;
}

Config Conv1D::config() const {
  Config c = Config::object()
                 .set("filters", filters_)
                 .set("kernel_size", kernel_size_)
                 .set("strides", window_.strides.w)
                 .set("padding", window_.padding.mode == "explicit"
                                     ? Config(std::vector<int64_t>{window_.padding.pads[2], window_.padding.pads[3]})
                                     : Config(window_.padding.mode))
                 .set("dilation", window_.dilation.w)
                 .set("activation", activation_name_);
  options_.write(c);
  return c;
}

namespace {

// "valid", "same", "causal", or [left, right].
Padding padding_from(const ConfigReader& f) {
  if (f.value().kind() == Config::Kind::string) return f.named([&] { return Padding(f.as_string()); });
  if (f.value().kind() != Config::Kind::list || f.size() != 2)
    f.bad("\"valid\", \"same\", \"causal\" or [left, right]");
  return Padding(std::array<int64_t, 4>{0, 0, f.element(0).as_integer(0), f.element(1).as_integer(0)});
}

}  // namespace

std::shared_ptr<Conv1D> Conv1D::from_config(const ConfigReader& c) {
  const Window window{.strides = c.integer_or("strides", 1, 1),
                      .padding = c.has("padding") ? padding_from(c.at("padding")) : Padding("valid"),
                      .dilation = c.integer_or("dilation", 1, 1)};
  return std::make_shared<Conv1D>(c.integer("filters", 1), c.integer("kernel_size", 1),
                                  c.string_or("activation", "linear"), window, WeightOptions::read(c));
}

std::pair<Geometry2D, int64_t> Conv1D::geometry(int64_t length, const Shape& input_shape) const {
  const Geometry2D g = window_.resolve(1, length, Size2(1, kernel_size_));
  try {
    return {g, kernels::conv2d_output_size(1, length, 1, kernel_size_, g, "Conv1D").second};
  } catch (const Error& e) {
    fail(e.what(), " (input ", input_shape, ")");
  }
}

void Conv1D::create_weights(const Shape& input_shape) {
  if (input_shape.rank() != 3) fail("Conv1D: input must be (batch, channels, length), got ", input_shape);
  geometry(input_shape[2], input_shape);
  const int64_t channels = input_shape[1];
  checked_mul(checked_mul(filters_, std::max<int64_t>(channels, 1), "Conv1D: kernel"), kernel_size_,
              "Conv1D: kernel");  // so fan_in / fan_out below fit too
  auto [kernel, bias] = options_.initial(Shape{filters_, channels, kernel_size_}, Shape{filters_},
                                         channels * kernel_size_, filters_ * kernel_size_);
  kernel_ = add_weight("kernel", std::move(kernel), true, options_.kernel_regularizer);
  if (options_.use_bias) bias_ = add_weight("bias", std::move(bias), true, options_.bias_regularizer);
}

Variable Conv1D::forward(const Variable& x) {
  if (x.rank() != 3) fail("Conv1D: input must be (batch, channels, length), got ", x.shape());
  if (x.dim(1) != kernel_.dim(1))
    fail("Conv1D: input ", x.shape(), " has ", x.dim(1), " channels; this layer was built for ", kernel_.dim(1));
  const auto [g, length] = geometry(x.dim(2), x.shape());
  const bool relu = activation_name_ == "relu";  // fused into the convolution
  // (N, C, L) as (N, C, 1, L) images, the kernel as (F, C, 1, k)
  const Variable y = conv2d(reshape(x, {x.dim(0), x.dim(1), 1, x.dim(2)}),
                            reshape(kernel_, {filters_, kernel_.dim(1), 1, kernel_size_}), bias_, g, relu);
  const Variable out = reshape(y, {x.dim(0), filters_, length});
  return relu ? out : activation_(out);
}

std::vector<std::string> Conv1D::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                             const std::vector<Shape>& shapes) const {
  const Geometry2D g = geometry(shapes[0][1], Shape{1, shapes[0][0], shapes[0][1]}).first;  // along the length
  std::vector<std::string> in{inputs[0], graph.weight(kernel_)};  // kernel (filters, channels, k), as ONNX's
  if (bias_.defined()) in.push_back(graph.weight(bias_));
  const std::string y = graph.op("Conv", in,
                                 {{"kernel_shape", std::vector<int64_t>{kernel_size_}},
                                  {"strides", std::vector<int64_t>{g.stride_w}},
                                  {"dilations", std::vector<int64_t>{g.dilation_w}},
                                  {"pads", std::vector<int64_t>{g.pad_left, g.pad_right}}});
  return {onnx_activation(graph, activation_name_, y)};
}

}  // namespace axon
