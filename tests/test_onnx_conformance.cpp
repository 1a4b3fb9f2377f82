// The ONNX project's operator conformance data (Debian's libonnx-testdata): every case
// of the node, pytorch-converted and pytorch-operator sets whose operators load_onnx
// supports is loaded, run on its test data and compared with the expected outputs at
// ONNX's backend-test tolerance (rtol 1e-3, atol 1e-7). A case that fails must be in
// the list below, each with its reason; one that passes must not be. The pass counts
// per operator are printed.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "axon/axon.h"
#include "io/onnx_tensor.h"

namespace axon {
namespace {

namespace fs = std::filesystem;

const fs::path kData = "/usr/share/libonnx-testdata/data";

// Selected cases axon does not pass, and why.
const std::map<std::string, std::string> kKnownFailures = {
#include "onnx_conformance_failures.inc"
};

onnx::TensorProto read_tensor(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  onnx::TensorProto proto;
  if (!proto.ParseFromIstream(&in)) fail(path.string(), ": not a TensorProto");
  return proto;
}

// The cases' folders holding model.onnx, with the operators each uses.
std::map<std::string, std::set<std::string>> cases() {
  std::map<std::string, std::set<std::string>> found;
  for (const char* set : {"node", "pytorch-converted", "pytorch-operator"}) {
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(kData / set, ec)) {
      std::ifstream in(entry.path() / "model.onnx", std::ios::binary);
      onnx::ModelProto model;
      if (!model.ParseFromIstream(&in)) continue;
      std::set<std::string>& ops = found[std::string(set) + "/" + entry.path().filename().string()];
      for (const onnx::NodeProto& node : model.graph().node())
        ops.insert(node.domain().empty() || node.domain() == "ai.onnx" ? node.op_type()
                                                                       : node.domain() + ":" + node.op_type());
    }
  }
  return found;
}

// One data set's tensors named prefix_0.pb, prefix_1.pb, ...
std::vector<onnx::TensorProto> read_tensors(const fs::path& data, const std::string& prefix) {
  std::vector<onnx::TensorProto> tensors;
  for (int i = 0; fs::exists(data / (prefix + "_" + std::to_string(i) + ".pb")); ++i)
    tensors.push_back(read_tensor(data / (prefix + "_" + std::to_string(i) + ".pb")));
  return tensors;
}

// Runs the model on one data set; returns "" or what went wrong. Node tests give a
// layer's weights (Conv's W, Gemm's B, Reshape's shape) as graph inputs; exporters write
// them as initializers, and axon takes them so: when the file does not load as it is,
// every input after the first is bound, with the data set's value, as an initializer.
std::string run_data_set(const onnx::ModelProto& proto, const fs::path& data) {
  const std::vector<onnx::TensorProto> inputs = read_tensors(data, "input"), expected = read_tensors(data, "output");
  std::shared_ptr<Functional> model;
  size_t fed = inputs.size();
  try {
    model = load_onnx_bytes(proto.SerializeAsString());
  } catch (const Error& first) {
    onnx::ModelProto bound = proto;
    for (size_t i = 1; i < inputs.size() && static_cast<int>(i) < proto.graph().input_size(); ++i) {
      onnx::TensorProto* t = bound.mutable_graph()->add_initializer();
      *t = inputs[i];
      t->set_name(proto.graph().input(static_cast<int>(i)).name());
    }
    try {
      model = load_onnx_bytes(bound.SerializeAsString());
      fed = 1;
    } catch (const Error&) {
      return first.what();
    }
  }
  const detail::OnnxTensorSource source{"", int64_t{1} << 28};
  std::vector<Tensor> x;
  for (size_t i = 0; i < fed; ++i) x.push_back(detail::tensor_from_onnx(inputs[i], source, "input"));
  if (x.size() != model->input_count()) return "the data set has a different number of inputs than the model";
  try {
    const std::vector<Tensor> outputs = model->predict(x, std::max<int64_t>(1, x[0].rank() ? x[0].dim(0) : 1));
    if (outputs.size() != expected.size()) return "a different number of outputs";
    for (size_t k = 0; k < outputs.size(); ++k) {
      const Tensor want = detail::tensor_from_onnx(expected[k], source, "output");
      if (outputs[k].shape() != want.shape()) return "output shape differs";
      if (!outputs[k].to(DType::f64).allclose(want.to(DType::f64), 1e-3, 1e-7)) return "output values differ";
    }
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string run_case(const fs::path& folder) {
  std::ifstream in(folder / "model.onnx", std::ios::binary);
  onnx::ModelProto proto;
  if (!proto.ParseFromIstream(&in)) return "model.onnx does not parse";
  int sets = 0;
  for (; fs::exists(folder / ("test_data_set_" + std::to_string(sets))); ++sets) {
    const std::string problem = run_data_set(proto, folder / ("test_data_set_" + std::to_string(sets)));
    if (!problem.empty()) return problem;
  }
  return sets ? "" : "no test data";
}

TEST(OnnxConformance, SupportedCasesPassOrHaveAKnownReason) {
  if (!fs::exists(kData)) GTEST_SKIP() << kData << " is missing: scripts/bootstrap installs libonnx-testdata";
  std::set<std::string> supported;
  for (const std::string& op : onnx_supported_operators()) supported.insert(op);
  for (const std::string& op : onnx_folded_operators()) supported.insert(op);
  std::map<std::string, std::pair<int, int>> per_operator;  // passed, selected
  int selected = 0, passed = 0;
  for (const auto& [name, ops] : cases()) {
    if (!std::includes(supported.begin(), supported.end(), ops.begin(), ops.end())) continue;
    ++selected;
    const std::string problem = run_case(kData / name);
    if (!problem.empty()) std::cout << "FAILED " << name << ": " << problem << "\n";
    const bool known = kKnownFailures.contains(name);
    if (problem.empty()) {
      ++passed;
      EXPECT_FALSE(known) << name << " passes now: take it out of onnx_conformance_failures.inc";
    } else {
      EXPECT_TRUE(known) << name << " fails: " << problem;
    }
    for (const std::string& op : ops) {
      per_operator[op].second += 1;
      per_operator[op].first += problem.empty() ? 1 : 0;
    }
  }
  std::cout << "ONNX conformance: " << passed << " of " << selected << " selected cases pass\n";
  for (const auto& [op, counts] : per_operator)
    std::cout << "  " << op << ": " << counts.first << " / " << counts.second << "\n";
  EXPECT_GT(selected, 100);
}

}  // namespace
}  // namespace axon
