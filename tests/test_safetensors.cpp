// safetensors files: exact bytes, round trips, an independent Python reader, and a
// table of corrupt or hostile inputs that must each give a clear Error.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "axon/axon.h"
#include "axon/safetensors.h"
#include "error_of.h"
#include "io/atomic_file.h"

namespace axon {
namespace {

using test_support::error_of;

std::string u64(uint64_t n) {
  std::string bytes(8, '\0');
  std::memcpy(bytes.data(), &n, 8);
  return bytes;
}

// A file from a header text (padded here) and raw data.
std::string file_of(std::string header, const std::string& data) {
  header.append((8 - header.size() % 8) % 8, ' ');
  return u64(header.size()) + header + data;
}

std::string floats(std::vector<float> values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * 4);
}

// {"a":{"a":...{}...}} nested `depth` deep.
std::string deep_objects(size_t depth) {
  std::string text;
  for (size_t i = 0; i < depth; ++i) text += "{\"a\":";
  return text + "{}" + std::string(depth, '}');
}

std::string parse_error(const std::string& bytes) {
  return test_support::error_of([&] { parse_safetensors(bytes, "f"); });
}

TEST(Safetensors, ExactBytesOfATinyFile) {
  const std::string bytes =
      serialize_safetensors({{"a", Tensor::from(std::vector<float>{1.5f, -2}, {2})}}, {{"axon.format_version", "1"}});
  const std::string header =
      R"({"__metadata__":{"axon.format_version":"1"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  EXPECT_EQ(bytes, file_of(header, floats({1.5f, -2})));
  EXPECT_EQ((bytes.size() - 8) % 8, 0u);
}

TEST(Safetensors, RoundTripIsBitExact) {
  Generator gen(1);
  const std::vector<NamedTensor> tensors = {{"w", gen.normal({3, 5}, 0, 1)},
                                            {"d", gen.normal({7}, 0, 1, DType::f64)},
                                            {"scalar", Tensor::scalar(3.25)},
                                            {"empty", Tensor::zeros({0, 4})},
                                            {"odd", gen.uniform({1, 3, 1}, -1, 1)}};
  const std::string path = ::testing::TempDir() + "axon_round_trip.safetensors";
  save_safetensors(path, tensors, {{"k", "v"}, {"json", "{\"a\": [1, 2]}"}});
  const SafetensorsFile file = load_safetensors(path);
  ASSERT_EQ(file.tensors.size(), tensors.size());
  for (const NamedTensor& t : tensors) {
    const Tensor& loaded = file.at(t.name);
    EXPECT_EQ(loaded.shape(), t.tensor.shape()) << t.name;
    EXPECT_EQ(loaded.dtype(), t.tensor.dtype()) << t.name;
    EXPECT_EQ(
        std::memcmp(loaded.raw(), t.tensor.raw(), static_cast<size_t>(t.tensor.numel()) * dtype_size(t.tensor.dtype())),
        0);
  }
  EXPECT_EQ(file.metadata.at("json"), "{\"a\": [1, 2]}");
  EXPECT_THROW(file.at("missing"), Error);
  EXPECT_THROW(serialize_safetensors({{"x", Tensor::zeros({1})}, {"x", Tensor::zeros({1})}}), Error);
}

TEST(Safetensors, AnIndependentPythonReaderAgrees) {
  if (std::system("python3 --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  const std::string path = ::testing::TempDir() + "axon_python.safetensors";
  save_safetensors(path,
                   {{"layers.0.kernel", Tensor::from(std::vector<float>{0.25f, 2}, {1, 2})},
                    {"b", Tensor::from(std::vector<double>{-7.5}, {1})},
                    {"s", Tensor::scalar(4)},
                    {"e", Tensor::zeros({2, 0})}},
                   {{"axon.format_version", "1"}});
  const std::string script = (std::filesystem::path(__FILE__).parent_path() / "check_safetensors.py").string();
  const auto check = [&](const std::string& file, const std::string& expectations) {
    return std::system(("python3 " + script + " " + file + " " + expectations + " > /dev/null 2>&1").c_str());
  };
  EXPECT_EQ(check(path, "layers.0.kernel=0.25 b=-7.5 s=4"), 0);
  // The checker can fail: a wrong expectation, a gap in the data, a duplicate name.
  EXPECT_NE(check(path, "b=1"), 0);
  const std::string bad = ::testing::TempDir() + "axon_python_bad.safetensors";
  std::ofstream(bad, std::ios::binary) << file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                                  floats({1, 2}));
  EXPECT_NE(check(bad, ""), 0);
  std::ofstream(bad, std::ios::binary | std::ios::trunc) << file_of(
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
      floats({1, 2}));
  EXPECT_NE(check(bad, ""), 0);
  std::filesystem::remove(bad);
}

TEST(Safetensors, CorruptFilesGiveClearErrors) {
  const std::string good_header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string data = floats({1, 2});
  const struct {
    std::string bytes;
    std::string message;
  } cases[] = {
      {"", "too short"},
      {std::string(7, '\0'), "too short"},
      {u64(1ULL << 63) + "{}", "over the 100000000-byte limit"},
      {u64(64) + "{}      ", "runs past the end"},
      {file_of("not json", ""), "not valid JSON"},
      {file_of("[1, 2]", ""), "not a JSON object"},
      {file_of(std::string(100000, '[') + std::string(100000, ']'), ""), "nested deeper than 64"},
      {file_of(deep_objects(100000), ""), "nested deeper than 64"},
      {file_of("{\"a\xff\":1}", ""), "not valid JSON"},  // not UTF-8
      {file_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} x)", data), "not valid JSON"},
      {file_of(R"({"a":5})", ""), "exactly dtype, shape and data_offsets"},
      {file_of(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", data), "exactly dtype, shape and data_offsets"},
      {file_of(R"({"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", data), "unknown dtype 'Q7'"},
      {file_of(R"({"a":{"dtype":"I16","shape":[4],"data_offsets":[0,8]}})", data),
       "dtype 'I16' of tensor 'a' is not supported"},
      {file_of(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data), "non-negative integer"},
      {file_of(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", data), "non-negative integer"},
      {file_of(R"({"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", data), "is not a list"},
      {file_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,16]}})", data), "must be [begin, end]"},
      {file_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", data), "do not hold 8 bytes"},
      {file_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}})", data),
       "exactly dtype, shape and data_offsets"},
      {file_of(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,8]}})", data),
       "too large"},
      {file_of(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data), "do not hold 12 bytes"},
      {file_of(
           R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
           data),
       "a gap or an overlap"},
      {file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data), "a gap or an overlap"},
      {file_of(good_header, data + "xx"), "data section has 10"},
      {file_of(good_header, data.substr(0, 6)), "data section has 6"},
      {file_of(
           R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
           data),
       "the key 'a' twice"},
      {file_of(R"({"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data),
       "value of 'k' is not a string"},
      {file_of(R"({"__metadata__":["k"],"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data),
       "must be an object of strings"},
      {file_of(R"({"__metadata__":{"k":"1","k":"2"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data),
       "the key 'k' twice"},
      {file_of(R"({"":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data), "empty name"},
  };
  // The same checks answer both readers: from memory, and from a file on disk (which
  // reads the header length first and the rest only once it fits the file).
  const std::string path = ::testing::TempDir() + "axon_corrupt.safetensors";
  for (const auto& c : cases) {
    const std::string error = parse_error(c.bytes);
    EXPECT_NE(error.find(c.message), std::string::npos) << "expected '" << c.message << "', got: " << error;
    EXPECT_EQ(error.rfind("f: ", 0), 0u) << "the message names the source: " << error;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << c.bytes;
    const std::string load_error = error_of([&] { load_safetensors(path); });
    EXPECT_NE(load_error.find(c.message), std::string::npos) << "expected '" << c.message << "', got: " << load_error;
    EXPECT_EQ(load_error.rfind(path + ": ", 0), 0u) << "the message names the file: " << load_error;
  }
  EXPECT_NO_THROW(parse_safetensors(file_of(good_header, data), "f"));
  std::filesystem::remove(path);
}

TEST(Safetensors, UnreadablePathsGiveClearErrors) {
  EXPECT_NE(error_of([] { load_safetensors("/nonexistent/axon.safetensors"); }).find("cannot open"), std::string::npos);
  EXPECT_NE(error_of([] { load_safetensors(::testing::TempDir()); }).find("not a regular file"), std::string::npos);
}

TEST(Safetensors, WriterRejectsWhatTheFormatCannotHold) {
  const Tensor x = Tensor::zeros({1});
  EXPECT_NE(error_of([&] { serialize_safetensors({{"x", x}, {"x", x}}); }).find("'x' given twice"), std::string::npos);
  EXPECT_NE(error_of([&] { serialize_safetensors({{"", x}}); }).find("invalid tensor name"), std::string::npos);
  EXPECT_NE(error_of([&] {
              serialize_safetensors({{"__metadata__", x}});
            }).find("invalid tensor name"),
            std::string::npos);
  EXPECT_NE(error_of([&] { serialize_safetensors({{"x", Tensor()}}); }).find("undefined"), std::string::npos);
  EXPECT_NE(error_of([&] {
              serialize_safetensors({{"x\xff", x}});
            }).find("tensor name is not valid UTF-8"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              serialize_safetensors({{"x", x}}, {{"k", "\xc3"}});
            }).find("value of 'k' is not valid UTF-8"),
            std::string::npos);
}

TEST(Safetensors, ZeroSizeTensorsKeepTheirOrder) {
  // Zero-size tensors share an offset; the file order is the data order, ties in header order.
  const std::vector<NamedTensor> tensors = {{"z2", Tensor::zeros({0})},
                                            {"z1", Tensor::zeros({3, 0}, DType::f64)},
                                            {"a", Tensor::ones({1})},
                                            {"z0", Tensor::zeros({0, 0})}};
  const SafetensorsFile file = parse_safetensors(serialize_safetensors(tensors), "f");
  ASSERT_EQ(file.tensors.size(), 4u);
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(file.tensors[i].name, tensors[i].name);
    EXPECT_EQ(file.tensors[i].tensor.shape(), tensors[i].tensor.shape());
    EXPECT_EQ(file.tensors[i].tensor.dtype(), tensors[i].tensor.dtype());
  }
  // Data order, not header order, for tensors with data.
  const std::string header =
      R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  const SafetensorsFile swapped = parse_safetensors(file_of(header, floats({1, 2})), "f");
  EXPECT_EQ(swapped.tensors[0].name, "a");
  EXPECT_EQ(swapped.at("b").item(), 2);
}

TEST(Safetensors, MutatedFilesNeverCrash) {
  const std::string good =
      serialize_safetensors({{"w", Tensor::ones({2, 3})}, {"b", Tensor::zeros({3}, DType::f64)}}, {{"m", "x"}});
  for (size_t length = 0; length < good.size(); ++length)
    EXPECT_THROW(parse_safetensors(good.substr(0, length), "f"), Error);
  Generator gen(3);
  int parsed = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bytes = good;
    for (int flips = 1 + static_cast<int>(gen.below(3)); flips > 0; --flips)
      bytes[gen.below(bytes.size())] = static_cast<char>(gen.below(256));
    try {
      parse_safetensors(bytes, "f");
      ++parsed;
    } catch (const Error&) {}
  }
  EXPECT_GT(parsed, 0);  // flips inside the data section still parse
}

TEST(AtomicFile, ReplacesWholeOrNotAtAll) {
  const std::filesystem::path folder = std::filesystem::path(::testing::TempDir()) / "axon_atomic";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  const std::string path = (folder / "f.bin").string();
  write_file_atomically(path, std::string_view("first"));
  write_file_atomically(path, std::string_view("second"));
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "second");
  // A writer that fails leaves the old file and no temporary behind.
  EXPECT_THROW(write_file_atomically(path, [](std::FILE*) { fail("disk on fire"); }), Error);
  std::ifstream again(path);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(again)), {}), "second");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(folder), {}), 1);
  // Unwritable places: a missing folder, a "folder" that is a file.
  EXPECT_THROW(write_file_atomically((folder / "missing" / "f.bin").string(), std::string_view("x")), Error);
  EXPECT_THROW(write_file_atomically((folder / "f.bin" / "g.bin").string(), std::string_view("x")), Error);
  std::filesystem::remove_all(folder);
}

TEST(AtomicFile, FullDiskIsAnErrorAndKeepsTheOldFile) {
  // A real full disk: a 64 KiB tmpfs (needs root, as CI and the dev machines run).
  const std::filesystem::path folder = std::filesystem::path(::testing::TempDir()) / "axon_full_disk";
  std::filesystem::create_directories(folder);
  if (getuid() != 0 ||
      std::system(("mount -t tmpfs -o size=64k tmpfs " + folder.string() + " 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "cannot mount a small tmpfs here";
  const std::string path = (folder / "model.safetensors").string();
  save_safetensors(path, {{"small", Tensor::ones({100})}});
  const std::string full = test_support::error_of([&] {
    save_safetensors(path, {{"big", Tensor::ones({100000})}});
  });  // 400 KB into 64 KiB
  EXPECT_NE(full.find("No space left on device"), std::string::npos) << full;
  EXPECT_EQ(load_safetensors(path).at("small").numel(), 100);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(folder), {}), 1);  // no temporary left
  EXPECT_EQ(std::system(("umount " + folder.string()).c_str()), 0);
  std::filesystem::remove_all(folder);
}

}  // namespace
}  // namespace axon
