// ONNX export: the file's graph read back with ONNX's own schema (the checker and
// OpenCV run it in python/tests/test_onnx.py).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "axon/axon.h"

namespace axon {
namespace {

onnx::ModelProto read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto proto;
  EXPECT_TRUE(proto.ParseFromIstream(&in));
  return proto;
}

std::string temp_path(const char* name) { return (std::filesystem::temp_directory_path() / name).string(); }

TEST(Onnx, DenseLayersBecomeMatMulAddAndActivationsWithTheirWeights) {
  Sequential model(Shape{4});
  model.add(Dense(3, "relu"));
  model.add(Dense(2, "softmax"));
  model.build(Shape{4});
  const std::string path = temp_path("axon_dense.onnx");
  save_onnx(model, path, 15);
  const onnx::ModelProto proto = read(path);
  EXPECT_EQ(proto.opset_import(0).version(), 15);
  std::vector<std::string> ops;
  for (const auto& node : proto.graph().node()) ops.push_back(node.op_type());
  EXPECT_EQ(ops, (std::vector<std::string>{"MatMul", "Add", "Relu", "MatMul", "Add", "Softmax", "Identity"}));
  ASSERT_EQ(proto.graph().initializer_size(), 4);
  const onnx::TensorProto& kernel = proto.graph().initializer(0);
  EXPECT_EQ(kernel.name(), "layers.0.kernel");
  ASSERT_EQ(kernel.dims_size(), 2);
  EXPECT_EQ(kernel.dims(0), 4);
  EXPECT_EQ(kernel.dims(1), 3);
  const std::vector<Tensor> weights = model.get_weights();
  ASSERT_EQ(kernel.raw_data().size(), 12 * sizeof(float));
  EXPECT_EQ(std::memcmp(kernel.raw_data().data(), weights[0].raw(), kernel.raw_data().size()), 0);  // bit for bit
  EXPECT_EQ(proto.graph().input(0).name(), "input");
  EXPECT_EQ(proto.graph().input(0).type().tensor_type().shape().dim(0).dim_param(), "batch");
  EXPECT_EQ(proto.graph().output(0).name(), "output");
  std::filesystem::remove(path);
}

TEST(Onnx, ASharedLayerWritesItsWeightsOnce) {
  SymbolicTensor a = Input(Shape{3}, "a"), b = Input(Shape{3}, "b");
  auto shared = std::make_shared<Dense>(2);
  Functional model({a, b}, {Add()({(*shared)(a), (*shared)(b)})});
  const std::string path = temp_path("axon_shared.onnx");
  save_onnx(model, path);
  const onnx::ModelProto proto = read(path);
  EXPECT_EQ(proto.graph().initializer_size(), 2);
  EXPECT_EQ(proto.graph().input_size(), 2);
  EXPECT_EQ(proto.graph().input(1).name(), "b");
  std::filesystem::remove(path);
}

TEST(Onnx, WhatHasNoOnnxFormFailsNamingItAndWritesNothing) {
  Sequential model(Shape{4});
  model.add(Dense(3, "relu"));
  model.build(Shape{4});
  std::shared_ptr<Model> int8 = quantize(model);
  const std::string path = temp_path("axon_refused.onnx");
  std::filesystem::remove(path);
  try {
    save_onnx(*int8, path);
    FAIL() << "an int8 layer was exported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("QuantizedDense"), std::string::npos) << e.what();
  }
  EXPECT_THROW(save_onnx(model, path, 12), Error);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace axon
