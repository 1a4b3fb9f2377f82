#include "axon/conv2d.h"

#include "axon/checked_math.h"
#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"
#include "kernels/conv.h"

namespace axon {

AXON_REGISTER(Module, "conv2d", Conv2D);

namespace {

Config pair_config(Size2 s) { return Config::list({Config(s.h), Config(s.w)}); }

Padding padding_from(const ConfigReader& f) {
  if (f.value().kind() == Config::Kind::string) return f.named([&] { return Padding(f.as_string()); });
  if (f.value().kind() != Config::Kind::list || f.size() != 4)
    f.bad("\"valid\", \"same\", \"causal\" or [top, bottom, left, right]");
  return Padding(std::array<int64_t, 4>{f.element(0).as_integer(0), f.element(1).as_integer(0),
                                        f.element(2).as_integer(0), f.element(3).as_integer(0)});
}

Size2 size_of(std::array<int64_t, 2> a) { return {a[0], a[1]}; }

}  // namespace

void write_window(Config& config, const Window& window, bool with_dilation) {
  config.set("strides", pair_config(window.strides));
  config.set("padding", window.padding.mode == "explicit"
                            ? Config(std::vector<int64_t>(window.padding.pads.begin(), window.padding.pads.end()))
                            : Config(window.padding.mode));
  if (with_dilation) config.set("dilation", pair_config(window.dilation));
}

Window read_window(const ConfigReader& c, Window defaults) {
  Window w = defaults;
  if (c.has("strides")) w.strides = size_of(c.pair("strides", 1));
  if (c.has("padding")) w.padding = padding_from(c.at("padding"));
  if (c.has("dilation")) w.dilation = size_of(c.pair("dilation", 1));
  return w;
}

Conv2D::Conv2D(int64_t filters, Size2 kernel_size, const std::string& activation_name, Window window,
               WeightOptions options)
    : filters_(filters),
      kernel_size_(kernel_size),
      activation_name_(activation_name),
      activation_(activation(activation_name)),
      window_(std::move(window)),
      options_(std::move(options)) {
  if (filters < 1) fail("Conv2D: filters must be >= 1, got ", filters);
  if (kernel_size.h < 1 || kernel_size.w < 1)
    fail("Conv2D: kernel_size must be >= 1, got (", kernel_size.h, ", ", kernel_size.w, ")");
  window_.check("Conv2D");
}

Config Conv2D::config() const {
  Config c = Config::object().set("filters", filters_).set("kernel_size", pair_config(kernel_size_));
  write_window(c, window_, true);
  c.set("activation", activation_name_);
  options_.write(c);
  return c;
}

std::shared_ptr<Conv2D> Conv2D::from_config(const ConfigReader& c) {
  return std::make_shared<Conv2D>(c.integer("filters", 1), size_of(c.pair("kernel_size", 1)),
                                  c.string_or("activation", "linear"), read_window(c), WeightOptions::read(c));
}

Geometry2D Conv2D::geometry_for(const Shape& shape) const {
  if (shape.rank() != 4) fail("Conv2D: input must be (batch, channels, height, width), got ", shape);
  if (kernel_.defined() && shape[1] != kernel_.dim(1))
    fail("Conv2D: input ", shape, " has ", shape[1], " channels; this layer was built for ", kernel_.dim(1));
  const Geometry2D g = window_.resolve(shape[2], shape[3], kernel_size_);
  try {
    kernels::conv2d_output_size(shape[2], shape[3], kernel_size_.h, kernel_size_.w, g, "Conv2D");
  } catch (const Error& e) {
    fail(e.what(), " (input ", shape, ")");
  }
  return g;
}

Shape Conv2D::output_shape_for(const Shape& shape) const {
  const auto [oh, ow] =
      kernels::conv2d_output_size(shape[2], shape[3], kernel_size_.h, kernel_size_.w, geometry_for(shape), "Conv2D");
  return Shape{shape[0], filters_, oh, ow};
}

void Conv2D::create_weights(const Shape& input_shape) {
  geometry_for(input_shape);
  const int64_t channels = input_shape[1], taps = checked_mul(kernel_size_.h, kernel_size_.w, "Conv2D: kernel size");
  checked_mul(checked_mul(filters_, std::max<int64_t>(channels, 1), "Conv2D: kernel"), taps,
              "Conv2D: kernel");  // so fan_in / fan_out below fit too
  auto [kernel, bias] = options_.initial(Shape{filters_, channels, kernel_size_.h, kernel_size_.w}, Shape{filters_},
                                         channels * taps, filters_ * taps);
  kernel_ = add_weight("kernel", std::move(kernel), true, options_.kernel_regularizer);
  if (options_.use_bias) bias_ = add_weight("bias", std::move(bias), true, options_.bias_regularizer);
}

Variable Conv2D::forward(const Variable& x) {
  const bool relu = activation_name_ == "relu";  // fused into the convolution
  const Variable y = conv2d(x, kernel_, bias_, geometry_for(x.shape()), relu);
  return relu ? y : activation_(y);
}

std::vector<std::string> Conv2D::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                             const std::vector<Shape>& shapes) const {
  std::vector<int64_t> dims{1};
  dims.insert(dims.end(), shapes[0].dims().begin(), shapes[0].dims().end());
  const Geometry2D g = geometry_for(Shape(dims));
  std::vector<std::string> in{inputs[0], graph.weight(kernel_)};  // kernel (filters, channels, kh, kw), as ONNX's
  if (bias_.defined()) in.push_back(graph.weight(bias_));
  const std::string y = graph.op("Conv", in,
                                 {{"kernel_shape", std::vector<int64_t>{kernel_size_.h, kernel_size_.w}},
                                  {"strides", std::vector<int64_t>{g.stride_h, g.stride_w}},
                                  {"dilations", std::vector<int64_t>{g.dilation_h, g.dilation_w}},
                                  {"pads", std::vector<int64_t>{g.pad_top, g.pad_left, g.pad_bottom, g.pad_right}}});
  return {onnx_activation(graph, activation_name_, y)};
}

}  // namespace axon
