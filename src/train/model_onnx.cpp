// A model's graph of layer calls as ONNX nodes: each call exports itself (see
// onnx_graph.h) with the names of the tensors it reads.
#include <map>

#include "axon/functional.h"
#include "axon/onnx_graph.h"
#include "train/graph.h"

namespace axon {

std::vector<std::string> Model::export_onnx(OnnxGraph& onnx, const std::vector<std::string>& inputs,
                                            const std::vector<Shape>& shapes) const {
  std::vector<Tensor> examples;
  for (const Shape& shape : shapes) {
    std::vector<int64_t> dims{1};
    dims.insert(dims.end(), shape.dims().begin(), shape.dims().end());
    examples.push_back(Tensor::zeros(Shape(dims)));
  }
  // Planning the graph for these shapes fills a cache; the model itself does not change.
  const detail::Graph* graph = const_cast<Model*>(this)->inference_graph(examples);
  if (!graph) fail("save_onnx: '", name(), "' (", type_name(), ") computes in its own call(), which has no ONNX form");
  std::map<std::pair<const detail::GraphNode*, size_t>, std::string> names;  // (node, output) -> tensor name
  for (size_t i = 0; i < graph->inputs().size(); ++i) names[{graph->inputs()[i].node().get(), 0}] = inputs.at(i);
  for (const detail::Graph::Call& call : graph->calls()) {
    std::vector<std::string> in;
    std::vector<Shape> in_shapes;
    for (const SymbolicTensor& t : call.node->inputs) {
      in.push_back(names.at({t.node().get(), t.index()}));
      in_shapes.push_back(t.shape());
    }
    const std::vector<std::string> out = call.node->layer->export_onnx(onnx, in, in_shapes);
    if (out.size() != call.node->output_shapes.size())
      fail("save_onnx: '", call.name, "' exported ", out.size(), " outputs for ", call.node->output_shapes.size());
    for (size_t k = 0; k < out.size(); ++k) names[{call.node.get(), k}] = out[k];
  }
  std::vector<std::string> outputs;
  for (const SymbolicTensor& t : graph->outputs()) outputs.push_back(names.at({t.node().get(), t.index()}));
  return outputs;
}

}  // namespace axon
