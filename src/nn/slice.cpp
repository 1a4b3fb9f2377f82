#include "axon/slice.h"

#include <limits>

#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "slice", Slice);

Slice::Slice(int64_t axis, int64_t begin, int64_t end) : axis_(axis), begin_(begin), end_(end) {
  if (axis == 0) fail("Slice: axis 0 is the batch axis, which layers keep whole");
  if (begin < 0 || end <= begin) fail("Slice: needs 0 <= begin < end, got [", begin, ", ", end, ")");
}

Config Slice::config() const { return Config::object().set("axis", axis_).set("begin", begin_).set("end", end_); }

std::shared_ptr<Slice> Slice::from_config(const ConfigReader& c) {
  const int64_t lowest = std::numeric_limits<int64_t>::min() / 2;
  return std::make_shared<Slice>(c.at("axis").as_integer(lowest), c.integer("begin", 0), c.integer("end", 1));
}

Variable Slice::forward(const Variable& x) {
  const int64_t rank = x.rank();
  const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
  if (axis < 1 || axis >= rank) fail("Slice: axis ", axis_, " is not an axis after the batch of ", x.shape());
  if (end_ > x.dim(axis))
    fail("Slice: [", begin_, ", ", end_, ") of axis ", axis_, " is out of range for ", x.shape());
  return slice(x, axis, begin_, end_);
}

std::vector<std::string> Slice::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                            const std::vector<Shape>& shapes) const {
  (void)shapes;
  return {graph.op("Slice", {inputs[0], graph.integers("starts", {begin_}), graph.integers("ends", {end_}),
                             graph.integers("axes", {axis_})})};
}

}  // namespace axon
