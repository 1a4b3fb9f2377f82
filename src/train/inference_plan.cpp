#include "train/inference_plan.h"

#include "axon/dense.h"
#include "axon/quantization.h"
#include "kernels/gemm.h"
#include "kernels/gemv.h"
#include "kernels/parallel.h"

namespace axon::detail {

namespace {

// A Dense step: (m, k) float32 rows -> its buffer (m, units), bias and relu fused into
// the pass that writes the product, any other activation after. nullopt-like `false`
// from run() when the input is not such rows (the caller then runs the layer).
struct DenseStep {
  std::shared_ptr<Dense> layer;
  ActivationFn activation;  // null for relu and linear, which the kernels apply
  Tensor buffer;

  bool run(const Tensor& x, Tensor& out) {
    const Tensor& w = layer->kernel().value();
    if (x.rank() != 2 || x.dtype() != DType::f32 || w.dtype() != DType::f32 || x.dim(1) != w.dim(0)) return false;
    const int64_t m = x.dim(0), k = w.dim(0), n = w.dim(1);
    if (!buffer.defined() || buffer.dim(0) != m || buffer.dim(1) != n) buffer = Tensor::empty(Shape{m, n});
    const float* bias = layer->bias().defined() ? layer->bias().value().data<float>() : nullptr;
    const bool relu = layer->activation_name() == "relu";
    float* y = buffer.data<float>();
    if (m == 1) {
      kernels::gemv_bias_act(x.data<float>(), w.data<float>(), k, n, bias, relu, y);
    } else {
      kernels::gemm<float>(false, false, m, n, k, 1.0f, x.data<float>(), k, w.data<float>(), n, 0.0f, y, n);
      if (bias || relu)
        kernels::parallel_for(m, n, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i)
            for (int64_t j = 0; j < n; ++j) {
              float v = y[i * n + j] + (bias ? bias[j] : 0.0f);
              y[i * n + j] = relu && v < 0.0f ? 0.0f : v;
            }
        });
    }
    out = activation ? activation(Variable(buffer)).value() : buffer;
    return true;
  }
};

// An int8 Dense step: any float32 (..., in) -> its buffer (..., units).
struct QuantizedDenseStep {
  std::shared_ptr<QuantizedDense> layer;
  ActivationFn activation;  // null for relu and linear
  Tensor buffer;

  bool run(const Tensor& x, Tensor& out) {
    if (x.dtype() != DType::f32 || x.rank() < 1) return false;
    std::vector<int64_t> dims = x.shape().dims();
    dims.back() = layer->units();
    if (!buffer.defined() || buffer.shape().dims() != dims) buffer = Tensor::empty(Shape(dims));
    layer->forward_into(x, buffer);
    out = activation ? activation(Variable(buffer)).value() : buffer;
    return true;
  }
};

ActivationFn unfused(const std::string& name) {
  return name == "relu" || name == "linear" ? nullptr : activation(name);
}

}  // namespace

InferencePlan::InferencePlan(const Graph& graph, const std::vector<Shape>& input_shapes) {
  values_.resize(graph.slot_count());
  for (size_t i = 0; i < input_shapes.size(); ++i) inputs_.push_back(i);
  outputs_ = graph.output_slots();
  for (const Graph::Step& step : graph.steps()) {
    // The layer as it runs in the graph, on its values: every step can fall back to it.
    auto generic = [this, step] {
      std::vector<Variable> args;
      for (size_t slot : step.inputs) args.emplace_back(values_[slot]);
      const std::vector<Variable> results = step.run(args);
      if (results.size() != step.outputs.size())
        fail("model: a layer returned ", results.size(), " outputs, expected ", step.outputs.size());
      for (size_t k = 0; k < results.size(); ++k) values_[step.outputs[k]] = results[k].value();
    };
    const bool single = step.layer && step.inputs.size() == 1 && step.outputs.size() == 1;
    const size_t in = step.inputs.empty() ? 0 : step.inputs[0], out = step.outputs.empty() ? 0 : step.outputs[0];
    if (single && step.layer->type_name() == "Dense") {
      auto dense = std::static_pointer_cast<Dense>(step.layer);
      steps_.push_back(
          {[this, in, out, generic, s = DenseStep{dense, unfused(dense->activation_name()), {}}]() mutable {
            if (!s.run(values_[in], values_[out])) generic();
          }});
    } else if (single && step.layer->type_name() == "QuantizedDense") {
      auto dense = std::static_pointer_cast<QuantizedDense>(step.layer);
      steps_.push_back(
          {[this, in, out, generic, s = QuantizedDenseStep{dense, unfused(dense->activation_name()), {}}]() mutable {
            if (!s.run(values_[in], values_[out])) generic();
          }});
    } else if (single && step.layer->type_name() == "Dropout") {  // the identity at inference
      steps_.push_back({[this, in, out, generic, layer = step.layer] {
        if (layer->training())
          generic();
        else
          values_[out] = values_[in];
      }});
    } else if (single && step.layer->type_name() == "Flatten") {  // a view
      steps_.push_back({[this, in, out] {
        const Tensor& x = values_[in];
        values_[out] = x.reshape({x.dim(0), x.dim(0) ? x.numel() / x.dim(0) : 0});
      }});
    } else {
      steps_.push_back({generic});
    }
  }
}

const std::vector<Tensor>& InferencePlan::run(const std::vector<Tensor>& inputs) {
  for (size_t i = 0; i < inputs_.size(); ++i) values_[inputs_[i]] = inputs[i];
  for (Step& step : steps_) step.run();
  results_.clear();
  for (size_t slot : outputs_) results_.push_back(values_[slot]);
  for (size_t i = 0; i < inputs_.size(); ++i) values_[inputs_[i]] = Tensor();  // the caller's, not ours to keep
  return results_;
}

}  // namespace axon::detail
