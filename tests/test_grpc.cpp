// OIP v2 over gRPC with a real gRPC client on loopback: the same answers as HTTP, raw
// and typed contents, versions, and status codes for what is wrong.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "axon/axon.h"
#include "axon/inference_server.h"
#include "grpc_service.grpc.pb.h"

namespace axon {
namespace {

using json = nlohmann::json;

// Two inputs a (2) and b (1), two outputs: 0.5 * (a0 + a1) + b (x3), and relu(-0.5 * (a0 + a1)).
std::shared_ptr<Model> two_way_model() {
  SymbolicTensor a = Input(Shape{2}, "a"), b = Input(Shape{1}, "b");
  SymbolicTensor half = Dense(3, "linear", {.kernel_initializer = Initializer::constant(0.5)})(a);
  SymbolicTensor wide = Dense(3, "linear", {.kernel_initializer = Initializer::constant(1)})(b);
  SymbolicTensor sum = Add()({half, wide});
  SymbolicTensor neg = Dense(1, "relu", {.kernel_initializer = Initializer::constant(-0.5)})(a);
  return std::make_shared<Functional>(std::vector<SymbolicTensor>{a, b}, std::vector<SymbolicTensor>{sum, neg});
}

struct Served {
  Served() : server({.port = 0, .grpc_port = 0}) {
    server.add_model("two", two_way_model());
    http_port = server.start();
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server.grpc_port()), grpc::InsecureChannelCredentials());
    stub = inference::GRPCInferenceService::NewStub(channel);
  }
  InferenceServer server;
  int http_port = 0;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub;
};

inference::ModelInferRequest raw_request(const std::vector<float>& a, const std::vector<float>& b, int64_t rows) {
  inference::ModelInferRequest request;
  request.set_model_name("two");
  request.set_id("g1");
  for (const auto& [name, values, width] : {std::tuple{"a", &a, 2}, std::tuple{"b", &b, 1}}) {
    auto* input = request.add_inputs();
    input->set_name(name);
    input->set_datatype("FP32");
    input->add_shape(rows);
    input->add_shape(width);
    request.add_raw_input_contents(std::string(reinterpret_cast<const char*>(values->data()), values->size() * 4));
  }
  return request;
}

std::vector<float> floats(const std::string& raw) {
  std::vector<float> out(raw.size() / 4);
  std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

TEST(Grpc, HealthAndMetadata) {
  Served s;
  grpc::ClientContext c1, c2, c3, c4, c5;
  inference::ServerLiveResponse live;
  ASSERT_TRUE(s.stub->ServerLive(&c1, {}, &live).ok());
  EXPECT_TRUE(live.live());
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(s.stub->ServerReady(&c2, {}, &ready).ok());
  EXPECT_TRUE(ready.ready());
  inference::ModelMetadataRequest meta_request;
  meta_request.set_name("two");
  inference::ModelMetadataResponse meta;
  ASSERT_TRUE(s.stub->ModelMetadata(&c3, meta_request, &meta).ok());
  ASSERT_EQ(meta.inputs_size(), 2);
  EXPECT_EQ(meta.inputs(0).name(), "a");
  EXPECT_EQ(meta.inputs(0).shape(1), 2);
  EXPECT_EQ(meta.outputs_size(), 2);
  EXPECT_EQ(meta.versions(0), "1");
  inference::ModelReadyRequest ready_request;
  ready_request.set_name("nope");
  inference::ModelReadyResponse model_ready;
  EXPECT_EQ(s.stub->ModelReady(&c4, ready_request, &model_ready).error_code(), grpc::StatusCode::NOT_FOUND);
  inference::ServerMetadataResponse server_meta;
  ASSERT_TRUE(s.stub->ServerMetadata(&c5, {}, &server_meta).ok());
  EXPECT_EQ(server_meta.name(), "axon");
}

TEST(Grpc, InferEqualsHttpInferRawAndTyped) {
  Served s;
  const std::vector<float> a = {1, 3, -4, 2}, b = {10, 20};
  grpc::ClientContext context;
  inference::ModelInferResponse raw;
  const grpc::Status status = s.stub->ModelInfer(&context, raw_request(a, b, 2), &raw);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(raw.id(), "g1");
  EXPECT_EQ(raw.model_version(), "1");
  ASSERT_EQ(raw.raw_output_contents_size(), 2);
  EXPECT_EQ(floats(raw.raw_output_contents(0)), (std::vector<float>{12, 12, 12, 19, 19, 19}));
  EXPECT_EQ(floats(raw.raw_output_contents(1)), (std::vector<float>{0, 1}));
  // The same over HTTP.
  httplib::Client http("127.0.0.1", s.http_port);
  const json body = {{"inputs",
                      {{{"name", "a"}, {"shape", {2, 2}}, {"datatype", "FP32"}, {"data", a}},
                       {{"name", "b"}, {"shape", {2, 1}}, {"datatype", "FP32"}, {"data", b}}}}};
  const json answer = json::parse(http.Post("/v2/models/two/infer", body.dump(), "application/json")->body);
  for (int k = 0; k < 2; ++k)
    EXPECT_EQ(answer["outputs"][k]["data"].get<std::vector<float>>(), floats(raw.raw_output_contents(k)));
  // Typed contents (INT32 here), one output asked for by name.
  inference::ModelInferRequest typed;
  typed.set_model_name("two");
  typed.set_model_version("1");
  for (const auto& [name, values, width] : {std::tuple{"a", &a, 2}, std::tuple{"b", &b, 1}}) {
    auto* input = typed.add_inputs();
    input->set_name(name);
    input->set_datatype("INT32");
    input->add_shape(2);
    input->add_shape(width);
    for (const float v : *values) input->mutable_contents()->add_int_contents(static_cast<int>(v));
  }
  typed.add_outputs()->set_name(answer["outputs"][1]["name"]);
  grpc::ClientContext typed_context;
  inference::ModelInferResponse contents;
  ASSERT_TRUE(s.stub->ModelInfer(&typed_context, typed, &contents).ok());
  ASSERT_EQ(contents.outputs_size(), 1);
  EXPECT_EQ(contents.raw_output_contents_size(), 0);
  EXPECT_EQ(std::vector<float>(contents.outputs(0).contents().fp32_contents().begin(),
                               contents.outputs(0).contents().fp32_contents().end()),
            (std::vector<float>{0, 1}));
}

TEST(Grpc, TextModelsTakeBytesTypedOrRawWithLengthPrefixes) {
  auto text = std::make_shared<TextVectorization>(TextVectorizationOptions{.split = "character", .standardize = "none"});
  text->adapt({"abc"});
  SymbolicTensor chars = Input(Shape{5}, "chars");
  SymbolicTensor h = Embedding(text->vocabulary_size(), 2, {.mask_zero = true, .seed = 3})((*text)(chars));
  auto model = std::make_shared<Functional>(std::vector{chars}, std::vector{GlobalAveragePooling1D()(h)});
  InferenceServer server({.port = 0, .grpc_port = 0});
  server.add_model("chars", model, Shape{5});
  server.start();
  auto stub = inference::GRPCInferenceService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(server.grpc_port()), grpc::InsecureChannelCredentials()));
  const std::vector<std::string> rows = {"cab", "abcabcab"};
  const std::vector<double> expected =  // each row's ids, padded or cut to the model's 5 steps
      model->predict(pad_sequences({text->ids(rows[0]), text->ids(rows[1])}, 5, "post", "post")).to_vector();
  auto request = [&](bool raw) {
    inference::ModelInferRequest r;
    r.set_model_name("chars");
    auto* input = r.add_inputs();
    input->set_name("chars");
    input->set_datatype("BYTES");
    input->add_shape(2);
    std::string packed;
    for (const std::string& row : rows) {
      if (!raw) input->mutable_contents()->add_bytes_contents(row);
      const uint32_t n = static_cast<uint32_t>(row.size());
      packed += std::string{char(n & 0xff), char(n >> 8 & 0xff), char(n >> 16 & 0xff), char(n >> 24)} + row;
    }
    if (raw) r.add_raw_input_contents(packed);
    return r;
  };
  for (bool raw : {false, true}) {
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    const grpc::Status status = stub->ModelInfer(&context, request(raw), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    const std::vector<float> got =  // answered in the form asked
        raw ? floats(response.raw_output_contents(0))
            : std::vector<float>(response.outputs(0).contents().fp32_contents().begin(),
                                 response.outputs(0).contents().fp32_contents().end());
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-6) << (raw ? "raw" : "typed");
  }
  inference::ModelInferRequest cut = request(true);
  cut.mutable_raw_input_contents(0)->resize(6);  // a length that overruns
  grpc::ClientContext context;
  inference::ModelInferResponse response;
  const grpc::Status status = stub->ModelInfer(&context, cut, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("overruns"), std::string::npos) << status.error_message();
  server.shutdown();
}

TEST(Grpc, WrongRequestsGetStatusCodesThatSayWhy) {
  Served s;
  const auto call = [&](const inference::ModelInferRequest& request) {
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    return s.stub->ModelInfer(&context, request, &response);
  };
  inference::ModelInferRequest unknown = raw_request({1, 2}, {3}, 1);
  unknown.set_model_name("nope");
  EXPECT_EQ(call(unknown).error_code(), grpc::StatusCode::NOT_FOUND);
  inference::ModelInferRequest version = raw_request({1, 2}, {3}, 1);
  version.set_model_version("7");
  EXPECT_EQ(call(version).error_code(), grpc::StatusCode::NOT_FOUND);
  inference::ModelInferRequest short_raw = raw_request({1, 2}, {3}, 1);
  short_raw.set_raw_input_contents(0, "abc");
  const grpc::Status bytes = call(short_raw);
  EXPECT_EQ(bytes.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bytes.error_message().find("raw_input_contents holds 3 bytes"), std::string::npos) << bytes.error_message();
  inference::ModelInferRequest shape = raw_request({1, 2}, {3}, 1);
  shape.mutable_inputs(0)->set_shape(1, 5);
  EXPECT_EQ(call(shape).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  inference::ModelInferRequest range;
  range.set_model_name("two");
  for (const auto& [name, width] : {std::pair{"a", 2}, std::pair{"b", 1}}) {
    auto* input = range.add_inputs();
    input->set_name(name);
    input->set_datatype("INT8");
    input->add_shape(1);
    input->add_shape(width);
    for (int i = 0; i < width; ++i) input->mutable_contents()->add_int_contents(1000);
  }
  const grpc::Status int8 = call(range);
  EXPECT_EQ(int8.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(int8.error_message().find("outside INT8's range"), std::string::npos) << int8.error_message();
}

}  // namespace
}  // namespace axon
