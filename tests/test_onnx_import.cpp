// ONNX import: models defined in PyTorch and exported by torch.onnx.export
// (tests/fixtures/onnx, made by make_onnx_fixtures.py there) against PyTorch's own
// outputs; axon -> ONNX -> axon bit for bit; fine-tuning an imported model; and hostile
// files, each an axon::Error before anything large is allocated.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>

#include "axon/axon.h"
#include "max_difference.h"

namespace axon {
namespace {

using test_support::max_difference;

namespace fs = std::filesystem;

std::string fixture(const std::string& name) { return std::string(AXON_SOURCE_DIR) + "/tests/fixtures/onnx/" + name; }

fs::path temp_folder(const std::string& name) {
  const fs::path folder = fs::temp_directory_path() / ("axon_onnx_import_" + name);
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

class TorchExported : public ::testing::TestWithParam<std::string> {};

TEST_P(TorchExported, GivesPyTorchsOutputs) {
  std::shared_ptr<Functional> model = load_onnx(fixture(GetParam() + ".onnx"));
  const Tensor x = read_npy(fixture(GetParam() + "_x.npy")), expected = read_npy(fixture(GetParam() + "_y.npy"));
  EXPECT_LT(max_difference(model->predict(x), expected), 1e-4);
  EXPECT_EQ(model->input_names(), std::vector<std::string>{"x"});
  EXPECT_EQ(model->output_names(), std::vector<std::string>{"y"});
  // One example at a time (the batch axis is dynamic), and through an axon model file.
  EXPECT_LT(max_difference(model->predict(x.rows(3, 4)), expected.rows(3, 4)), 1e-4);
  const fs::path folder = temp_folder(GetParam());
  save_model(*model, (folder / "m.safetensors").string());
  EXPECT_LT(max_difference(load_model((folder / "m.safetensors").string())->predict(x), expected), 1e-4);
  fs::remove_all(folder);
}

// Also torch's bidirectional LSTM and GRU (time-major between Transposes, zero states
// from the batch size) and nn.TransformerEncoder, post- and pre-norm (attention written
// out over (steps, batch * heads, dim), fused back into MultiHeadAttention), and a causal
// one with gelu. And a CNN on every frame of a clip, the batch and the frames merged
// (b * t, c, h, w) by a Shape chain, then split again for a GRU: TimeDistributed layers.
INSTANTIATE_TEST_SUITE_P(OnnxImport, TorchExported,
                         ::testing::Values("torch_mlp", "torch_cnn_bn", "torch_residual", "torch_lstm", "torch_gru",
                                           "torch_transformer", "torch_transformer_prenorm",
                                           "torch_transformer_causal", "torch_clips"));

// Its attention is causal MultiHeadAttention again, so generation keeps a key/value
// cache: cached and uncached decoding agree over the 9-step context.
TEST(OnnxImport, AnImportedCausalTransformerGeneratesWithTheCache) {
  std::shared_ptr<Functional> model = load_onnx(fixture("torch_transformer_causal.onnx"));
  const std::vector<int64_t> prompt{3, 1, 4};
  const std::vector<int64_t> cached = generate(*model, prompt, {.tokens = 6, .temperature = 0, .cache = true});
  EXPECT_EQ(cached, generate(*model, prompt, {.tokens = 6, .temperature = 0, .cache = false}));
  EXPECT_EQ(cached.size(), 9u);
}

TEST(OnnxImport, TorchsAttentionBecomesMultiHeadAttentionLayers) {
  std::shared_ptr<Functional> model = load_onnx(fixture("torch_transformer.onnx"));
  int attention = 0;
  for (const NamedParameter& p : model->named_parameters()) attention += p.name.ends_with("query_kernel");
  EXPECT_EQ(attention, 2);  // one per encoder layer
}

TEST(OnnxImport, TheShapeChainOfViewIsFoldedAndBatchNormKeptAsALayer) {
  std::shared_ptr<Functional> model = load_onnx(fixture("torch_cnn_bn.onnx"));
  std::vector<std::string> types;
  for (const NamedParameter& p : model->named_parameters())
    if (p.name.ends_with("moving_mean")) types.push_back(p.name);
  EXPECT_EQ(types.size(), 2u);  // the two BatchNormalization layers, with their statistics
  EXPECT_EQ(model->input_shapes(), std::vector<Shape>{Shape({1, 12, 12})});
}

TEST(OnnxImport, AnAxonModelComesBackBitForBit) {
  SymbolicTensor image = Input(Shape{2, 9, 9}, "image");
  SymbolicTensor h = Conv2D(6, 3, "relu", {.padding = "same"})(image);
  h = Rescaling(0.5, 0.25)(BatchNormalization()(h));
  SymbolicTensor branch = Conv2D(6, 3, "linear", {.padding = "same"})(h);
  h = Add()({h, branch});
  h = MaxPool2D(2)(h);
  SymbolicTensor pooled = GlobalAveragePool2D()(h);
  SymbolicTensor flat = Flatten()(h);
  SymbolicTensor joined = Concatenate()({Dense(8, "tanh")(flat), pooled});
  SymbolicTensor scores = Dense(4, "softmax")(Dense(8, "gelu")(Dense(8, "elu")(joined)));
  Functional model({image}, {scores});
  Generator generator(3);
  const Tensor x = generator.normal(Shape{5, 2, 9, 9}, 0.0, 1.0);
  model.compile("adam", "sparse_categorical_crossentropy");
  model.fit(x, Tensor::from(std::vector<int32_t>{0, 1, 2, 3, 0}, Shape{5}), {.epochs = 1, .verbose = 0});

  const fs::path folder = temp_folder("round_trip");
  save_onnx(model, (folder / "m.onnx").string());
  std::shared_ptr<Functional> back = load_onnx((folder / "m.onnx").string());
  EXPECT_EQ(max_difference(back->predict(x), model.predict(x)), 0.0);
  EXPECT_EQ(back->parameter_count(), model.parameter_count());
  fs::remove_all(folder);
}

// TimeDistributed leaves as Reshape (batch * steps, ...) -> the layer -> Reshape back;
// it comes back as TimeDistributed layers, bit for bit.
TEST(OnnxImport, TimeDistributedComesBackFromItsMergedBatch) {
  SymbolicTensor clips = Input(Shape{5, 1, 6, 6}, "clips");
  SymbolicTensor h = TimeDistributed(std::make_shared<Conv2D>(2, 3, "relu"))(clips);
  h = TimeDistributed(std::make_shared<Flatten>())(h);
  h = GRU(4, {.return_sequences = true})(h);
  h = TimeDistributed(std::make_shared<Dense>(3, "softmax"))(h);
  Functional model({clips}, {h});
  const Tensor x = Generator(4).normal(Shape{3, 5, 1, 6, 6}, 0.0, 1.0);
  const fs::path folder = temp_folder("time_distributed");
  save_onnx(model, (folder / "m.onnx").string());
  std::shared_ptr<Functional> back = load_onnx((folder / "m.onnx").string());
  EXPECT_EQ(max_difference(back->predict(x), model.predict(x)), 0.0);
  EXPECT_EQ(back->parameter_count(), model.parameter_count());

  // Without the Reshape that splits the steps off again, the output is (batch * steps, 3).
  onnx::ModelProto proto;
  std::ifstream file(folder / "m.onnx", std::ios::binary);
  ASSERT_TRUE(proto.ParseFromIstream(&file));
  onnx::GraphProto& graph = *proto.mutable_graph();
  onnx::NodeProto& output = *graph.mutable_node(graph.node_size() - 1);  // Identity, naming the output
  const onnx::NodeProto& split = graph.node(graph.node_size() - 2);
  ASSERT_EQ(split.op_type(), "Reshape");
  ASSERT_EQ(output.input(0), split.output(0));
  output.set_input(0, split.input(0));
  std::string bytes;
  proto.SerializeToString(&bytes);
  try {
    load_onnx_bytes(bytes);
    ADD_FAILURE() << "an output with merged steps loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has 5 steps merged into its batch axis"), std::string::npos) << e.what();
  }
  fs::remove_all(folder);
}

TEST(OnnxImport, SiluComesBackAsXTimesSigmoid) {
  Sequential model(Shape{6});
  model.add(Dense(5, "silu"));
  model.add(Dense(3, "leaky_relu"));
  model.build(Shape{6});
  const fs::path folder = temp_folder("silu");
  save_onnx(model, (folder / "m.onnx").string());
  const Tensor x = Generator(5).normal(Shape{4, 6}, 0.0, 1.0);
  EXPECT_LT(max_difference(load_onnx((folder / "m.onnx").string())->predict(x), model.predict(x)), 1e-6);
  fs::remove_all(folder);
}

TEST(OnnxImport, LayerNormalizationComesBackAtOpset17) {
  Sequential model(Shape{5, 6});
  model.add(Dense(6, "relu"));
  model.add(LayerNormalization(1e-5));
  model.build(Shape{5, 6});
  model.set_weights({model.get_weights()[0], model.get_weights()[1], Generator(1).normal(Shape{6}, 1.0, 0.2),
                     Generator(2).normal(Shape{6}, 0.0, 0.2)});
  const fs::path folder = temp_folder("layer_norm");
  save_onnx(model, (folder / "m.onnx").string(), 17);
  const Tensor x = Generator(5).normal(Shape{3, 5, 6}, 0.0, 1.0);
  EXPECT_EQ(max_difference(load_onnx((folder / "m.onnx").string())->predict(x), model.predict(x)), 0.0);
  save_onnx(model, (folder / "m13.onnx").string(), 13);  // decomposed below opset 17: checked by ONNX's checker
  fs::remove_all(folder);
}

TEST(OnnxImport, AnImportedModelFineTunesAndItsValidationLossFalls) {
  std::shared_ptr<Functional> model = load_onnx(fixture("torch_mlp.onnx"));
  // Labels from a fixed rule the PyTorch weights do not know: the largest of 5 features.
  Generator generator(11);
  const int64_t n = 512;
  const Tensor x = generator.normal(Shape{n, 20}, 0.0, 1.0);
  std::vector<int32_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = x.data<float>() + i * 20;
    labels.push_back(static_cast<int32_t>(std::max_element(row, row + 5) - row));
  }
  const Tensor y = Tensor::from(labels, Shape{n});
  const Tensor x_val = x.rows(384, n), y_val = y.rows(384, n);
  model->compile(Adam(0.01), "sparse_categorical_crossentropy");
  const double before = model->evaluate(x_val, y_val).at("loss");
  model->fit(x.rows(0, 384), y.rows(0, 384), {.epochs = 1, .batch_size = 32, .verbose = 0});
  const double after = model->evaluate(x_val, y_val).at("loss");
  EXPECT_LT(after, before * 0.9) << before << " -> " << after;
}

// Hostile files: each is refused with an error naming the problem.
onnx::ModelProto small_model() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* graph = model.mutable_graph();
  onnx::ValueInfoProto* input = graph->add_input();
  input->set_name("x");
  auto* type = input->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  type->mutable_shape()->add_dim()->set_dim_param("batch");
  type->mutable_shape()->add_dim()->set_dim_value(3);
  onnx::TensorProto* w = graph->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(3);
  w->add_dims(2);
  for (int i = 0; i < 6; ++i) w->add_float_data(static_cast<float>(i));
  onnx::NodeProto* matmul = graph->add_node();
  matmul->set_op_type("MatMul");
  matmul->set_name("mm");
  matmul->add_input("x");
  matmul->add_input("w");
  matmul->add_output("h");
  onnx::NodeProto* relu = graph->add_node();
  relu->set_op_type("Relu");
  relu->set_name("act");
  relu->add_input("h");
  relu->add_output("y");
  graph->add_output()->set_name("y");
  return model;
}

std::string error_of(const std::string& bytes, const OnnxLimits& limits = {}) {
  try {
    load_onnx_bytes(bytes, limits);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string error_of(const onnx::ModelProto& model) { return error_of(model.SerializeAsString()); }

void expect_error(const std::string& message, const std::string& part) {
  EXPECT_NE(message.find(part), std::string::npos) << message;
}

TEST(OnnxImport, TheSmallModelLoads) {
  std::shared_ptr<Functional> model = load_onnx_bytes(small_model().SerializeAsString());
  const Tensor y = model->predict(Tensor::from(std::vector<float>{1, -1, 2}, Shape{1, 3}));
  EXPECT_EQ(y.to_vector(), (std::vector<double>{1 * 0 - 1 * 2 + 2 * 4, 1 * 1 - 1 * 3 + 2 * 5}));
}

TEST(OnnxImport, ArithmeticWithAScalarBecomesRescaling) {
  onnx::ModelProto model = small_model();  // y = (3 - 2 x) / 4 + 1, for x (batch, 3)
  onnx::GraphProto* graph = model.mutable_graph();
  graph->clear_node();
  graph->clear_initializer();
  const auto scalar = [&](const std::string& name, float value) {
    onnx::TensorProto* t = graph->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_float_data(value);
  };
  const auto node = [&](const std::string& op, const std::string& a, const std::string& b, const std::string& out) {
    onnx::NodeProto* n = graph->add_node();
    n->set_op_type(op);
    n->add_input(a);
    n->add_input(b);
    n->add_output(out);
  };
  scalar("two", 2), scalar("three", 3), scalar("four", 4), scalar("one", 1);
  node("Mul", "x", "two", "a");
  node("Sub", "three", "a", "b");
  node("Div", "b", "four", "c");
  node("Add", "one", "c", "y");
  std::shared_ptr<Functional> imported = load_onnx_bytes(model.SerializeAsString());
  const Tensor y = imported->predict(Tensor::from(std::vector<float>{0, 1, -2}, Shape{1, 3}));
  EXPECT_EQ(y.to_vector(), (std::vector<double>{1.75, 1.25, 2.75}));
  graph->mutable_node(2)->set_input(0, "four");  // 4 / b: not a rescaling
  graph->mutable_node(2)->set_input(1, "b");
  expect_error(error_of(model), "divides a graph tensor by a scalar constant only");
}

TEST(OnnxImport, TruncatedOrCorruptBytesAreRefused) {
  const std::string bytes = small_model().SerializeAsString();
  for (size_t cut : {size_t{0}, size_t{1}, bytes.size() / 2, bytes.size() - 3})
    expect_error(error_of(bytes.substr(0, cut)), "load_onnx");
  std::string corrupt = bytes;
  for (size_t i = 0; i < corrupt.size(); i += 7) corrupt[i] = static_cast<char>(0xff);
  expect_error(error_of(corrupt), "load_onnx");
  expect_error(error_of(bytes, {.max_file_bytes = 10}), "over the limit");
}

TEST(OnnxImport, ACycleAnUndefinedTensorAndATwiceDefinedOneAreRefused) {
  onnx::ModelProto cycle = small_model();
  cycle.mutable_graph()->mutable_node(0)->set_input(0, "y");
  expect_error(error_of(cycle), "cycle");
  onnx::ModelProto undefined = small_model();
  undefined.mutable_graph()->mutable_node(1)->set_input(0, "nowhere");
  expect_error(error_of(undefined), "undefined tensor 'nowhere'");
  onnx::ModelProto twice = small_model();
  twice.mutable_graph()->mutable_node(1)->set_output(0, "h");
  expect_error(error_of(twice), "defined twice");
}

TEST(OnnxImport, BadDimensionsAndShortDataAreRefusedBeforeAllocating) {
  onnx::ModelProto negative = small_model();
  negative.mutable_graph()->mutable_initializer(0)->set_dims(0, -3);
  expect_error(error_of(negative), "negative");
  onnx::ModelProto overflow = small_model();
  overflow.mutable_graph()->mutable_initializer(0)->set_dims(0, int64_t{1} << 40);
  overflow.mutable_graph()->mutable_initializer(0)->set_dims(1, int64_t{1} << 40);
  expect_error(error_of(overflow), "load_onnx: initializer 'w'");
  onnx::ModelProto huge = small_model();  // a count under 2^63 but over the element limit
  huge.mutable_graph()->mutable_initializer(0)->set_dims(0, int64_t{1} << 40);
  expect_error(error_of(huge), "limit");
  onnx::ModelProto wide = small_model();  // Relu on 2^29 floats: 2 GiB to build from a tiny file
  wide.mutable_graph()->mutable_node(0)->set_op_type("Relu");
  wide.mutable_graph()->mutable_node(0)->mutable_input()->RemoveLast();
  wide.mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(1)
      ->set_dim_value(int64_t{1} << 29);
  expect_error(error_of(wide), "more memory than its weights justify");
  onnx::ModelProto shorter = small_model();
  shorter.mutable_graph()->mutable_initializer(0)->mutable_float_data()->RemoveLast();
  expect_error(error_of(shorter), "initializer 'w'");
  onnx::ModelProto raw = small_model();
  raw.mutable_graph()->mutable_initializer(0)->clear_float_data();
  raw.mutable_graph()->mutable_initializer(0)->set_raw_data(std::string(20, '\0'));  // 24 needed
  expect_error(error_of(raw), "initializer 'w'");
}

onnx::ModelProto fixture_proto(const std::string& name) {
  std::ifstream in(fixture(name), std::ios::binary);
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromIstream(&in)) << name;
  return model;
}

// Sets attribute `name` of every `op` node to `value`.
void set_attribute(onnx::ModelProto& model, const std::string& op, const std::string& name, int64_t value) {
  for (onnx::NodeProto& node : *model.mutable_graph()->mutable_node())
    if (node.op_type() == op)
      for (onnx::AttributeProto& a : *node.mutable_attribute())
        if (a.name() == name) a.set_i(value);
}

TEST(OnnxImport, HostileRecurrentAndAttentionNodesAreRefusedClearly) {
  onnx::ModelProto lstm = fixture_proto("torch_lstm.onnx");
  set_attribute(lstm, "LSTM", "hidden_size", int64_t{1} << 62);  // gates * units would overflow
  expect_error(error_of(lstm), "do not fit");
  onnx::ModelProto gather = fixture_proto("torch_lstm.onnx");
  for (onnx::TensorProto& t : *gather.mutable_graph()->mutable_initializer())
    if (t.dims_size() == 2 && t.data_type() == onnx::TensorProto::FLOAT) t.set_dims(0, t.dims(0) + 1);  // short data
  expect_error(error_of(gather), "load_onnx");
  // A softmax over another axis is not attention: nothing is fused, and the written-out
  // form fails naming what axon cannot compute.
  onnx::ModelProto attention = fixture_proto("torch_transformer.onnx");
  set_attribute(attention, "Softmax", "axis", 1);
  expect_error(error_of(attention), "batch axis");
}

// The small model with its weights in an external file at `location`, written in `folder`.
fs::path with_external_weights(const fs::path& folder, const std::string& location) {
  onnx::ModelProto model = small_model();
  onnx::TensorProto* w = model.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* entry = w->add_external_data();
  entry->set_key("location");
  entry->set_value(location);
  std::ofstream(folder / "m.onnx", std::ios::binary) << model.SerializeAsString();
  return folder / "m.onnx";
}

TEST(OnnxImport, ExternalDataMustStayInTheModelsFolder) {
  const fs::path folder = temp_folder("external");
  std::ofstream(folder / "weights.bin", std::ios::binary) << std::string(24, '\0');
  for (const std::string location : {"/etc/passwd", "../weights.bin", "sub/../../weights.bin"}) {
    try {
      load_onnx(with_external_weights(folder, location).string());
      ADD_FAILURE() << location << " was read";
    } catch (const Error& e) {
      expect_error(e.what(), location);
    }
  }
  // Inside the folder, of the right length, it loads.
  EXPECT_EQ(load_onnx(with_external_weights(folder, "weights.bin").string())->parameter_count(), 8);
  fs::remove_all(folder);
}

TEST(OnnxImport, EveryUnsupportedOperatorIsListed) {
  onnx::ModelProto model = small_model();
  model.mutable_graph()->mutable_node(1)->set_op_type("Hardmax");
  onnx::NodeProto* extra = model.mutable_graph()->add_node();
  extra->set_op_type("NonMaxSuppression");
  extra->add_input("y");
  extra->add_output("z");
  onnx::NodeProto* custom = model.mutable_graph()->add_node();
  custom->set_op_type("Thing");
  custom->set_domain("com.example");
  custom->add_input("y");
  custom->add_output("w2");
  expect_error(error_of(model), "Hardmax, NonMaxSuppression, com.example:Thing");
}

TEST(OnnxImport, WhatAxonCannotComputeFailsNamingTheNode) {
  onnx::ModelProto model = small_model();
  model.mutable_graph()->mutable_node(0)->set_input(1, "x");  // a product of two graph tensors
  expect_error(error_of(model), "node 'mm' (MatMul)");
  onnx::ModelProto opset = small_model();
  opset.mutable_opset_import(0)->set_version(99);
  expect_error(error_of(opset), "opset 99");
}

}  // namespace
}  // namespace axon
