#include "train/inference_plan.h"

#include <algorithm>

#include "axon/dense.h"
#include "axon/quantization.h"
#include "kernels/gemm.h"
#include "kernels/reduce.h"

namespace axon::detail {

namespace {

// The fast paths: each returns the layer's output for x before any activation the
// kernels do not fuse (relu is fused), in a buffer it keeps, or an undefined tensor when
// x does not suit it (the layer then runs as in the graph).

// Dense: (m, k) float32 rows -> (m, units), the bias and relu applied in the pass that
// writes the product (kernels::gemm_bias_act).
struct DenseFastPath {
  std::shared_ptr<Dense> layer;
  Tensor buffer;

  Tensor operator()(const Tensor& x) {
    const Tensor& w = layer->kernel().value();
    if (x.rank() != 2 || x.dtype() != DType::f32 || w.dtype() != DType::f32 || x.dim(1) != w.dim(0)) return {};
    const int64_t m = x.dim(0), k = w.dim(0), n = w.dim(1);
    if (!buffer.defined() || buffer.dim(0) != m) buffer = Tensor::empty(Shape{m, n});
    const float* bias = layer->bias().defined() ? layer->bias().value().data<float>() : nullptr;
    const bool relu = layer->activation_name() == "relu";
    kernels::gemm_bias_act(m, n, k, x.data<float>(), w.data<float>(), bias, relu, buffer.data<float>());
    return buffer;
  }
};

// int8 Dense: any float32 (..., in) -> (..., units).
struct QuantizedDenseFastPath {
  std::shared_ptr<QuantizedDense> layer;
  Tensor buffer;

  Tensor operator()(const Tensor& x) {
    if (x.dtype() != DType::f32 || x.rank() < 1) return {};
    std::vector<int64_t> dims = x.shape().dims();
    dims.back() = layer->units();
    if (!buffer.defined() || buffer.shape().dims() != dims) buffer = Tensor::empty(Shape(dims));
    layer->forward_into(x, buffer);
    return buffer;
  }
};

}  // namespace

InferencePlan::InferencePlan(const Graph& graph, const std::vector<Shape>& input_shapes)
    : values_(graph.slot_count()),
      masks_(graph.slot_count()),
      input_count_(input_shapes.size()),
      outputs_(graph.output_slots()) {
  for (const Graph::Step& step : graph.steps()) {
    // The layer as it runs in the graph, on its values: every step can fall back to it.
    auto generic = [this, step] {
      std::vector<Variable> args;
      for (size_t slot : step.inputs) {
        args.emplace_back(values_[slot]);
        if (masks_[slot].defined()) args.back().set_mask(masks_[slot]);
      }
      const std::vector<Variable> results = step.run(args);
      if (results.size() != step.outputs.size())
        fail("model: a layer returned ", results.size(), " outputs, expected ", step.outputs.size());
      for (size_t k = 0; k < results.size(); ++k) {
        values_[step.outputs[k]] = results[k].value();
        masks_[step.outputs[k]] = results[k].mask();
      }
    };
    const bool single = step.layer && step.inputs.size() == 1 && step.outputs.size() == 1;
    const size_t in = step.inputs.empty() ? 0 : step.inputs[0], out = step.outputs.empty() ? 0 : step.outputs[0];
    // A layer with a fast path, and the activation its kernels leave to be applied after
    // (softmax over the fast path's own buffer).
    auto with_fast_path = [&](auto fast, const std::string& activation_name) {
      const bool fused = activation_name == "relu" || activation_name == "linear", softmax = activation_name == "softmax";
      ActivationFn after = fused || softmax ? nullptr : activation(activation_name);
      steps_.push_back({[this, in, out, generic, fast, after, softmax]() mutable {
        Tensor y = fast(values_[in]);
        if (!y.defined()) return generic();
        if (softmax) kernels::softmax_in_place(y, -1);
        values_[out] = after ? after(Variable(y)).value() : y;
        masks_[out] = y.rank() >= 3 ? masks_[in] : Tensor();  // Dense keeps the steps
      }});
    };
    const std::string type = step.layer ? step.layer->type_name() : "";
    if (single && type == "Dense") {
      auto dense = std::static_pointer_cast<Dense>(step.layer);
      with_fast_path(DenseFastPath{dense, {}}, dense->activation_name());
    } else if (single && type == "QuantizedDense") {
      auto dense = std::static_pointer_cast<QuantizedDense>(step.layer);
      with_fast_path(QuantizedDenseFastPath{dense, {}}, dense->activation_name());
    } else if (single && type == "Dropout") {  // the identity at inference
      steps_.push_back({[this, in, out, generic, layer = step.layer] {
        if (layer->training())
          generic();
        else
          values_[out] = values_[in], masks_[out] = masks_[in];
      }});
    } else if (single && type == "Flatten") {  // a view
      steps_.push_back({[this, in, out] {
        const Tensor& x = values_[in];
        values_[out] = x.reshape({x.dim(0), x.dim(0) ? x.numel() / x.dim(0) : 0});
        masks_[out] = Tensor();
      }});
    } else {
      steps_.push_back({generic});
    }
  }
}

const std::vector<Tensor>& InferencePlan::run(const std::vector<Tensor>& inputs) {
  for (size_t i = 0; i < input_count_; ++i) values_[i] = inputs[i];  // the inputs are slots 0, 1, ...
  std::fill(masks_.begin(), masks_.end(), Tensor());
  for (Step& step : steps_) step.run();
  results_.clear();
  for (size_t slot : outputs_) results_.push_back(values_[slot]);
  for (size_t i = 0; i < input_count_; ++i) values_[i] = Tensor();  // the caller's, not ours to keep
  return results_;
}

}  // namespace axon::detail
