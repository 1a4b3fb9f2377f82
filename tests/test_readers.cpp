// Readers on small files written here byte by byte: IDX plain and gzipped, CSV, NPY;
// good files give the right values, bad ones an Error that says what is wrong.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "axon/readers.h"
#include "error_of.h"

namespace axon {
namespace {

using Bytes = std::string;  // raw file contents

// This process's scratch folder, removed when the tests end.
std::filesystem::path scratch_root() {
  return std::filesystem::path(testing::TempDir()) / ("axon_readers_" + std::to_string(::getpid()));
}

class RemoveScratch : public testing::Environment {
  void TearDown() override { std::filesystem::remove_all(scratch_root()); }
};
[[maybe_unused]] testing::Environment* const remove_scratch = testing::AddGlobalTestEnvironment(new RemoveScratch);

// A fresh empty folder for one test.
std::string temp_folder() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path folder = scratch_root() / (std::string(info->test_suite_name()) + "." + info->name());
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  return folder.string();
}

std::string write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  EXPECT_TRUE(out.good()) << path;
  return path;
}

std::string write_gz(const std::string& path, const Bytes& bytes) {
  gzFile gz = gzopen(path.c_str(), "wb");
  EXPECT_NE(gz, nullptr) << path;
  if (!bytes.empty()) {
    EXPECT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  }
  EXPECT_EQ(gzclose(gz), Z_OK);
  return path;
}

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

using test_support::error_of;

void append_u32_be(Bytes& b, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b += static_cast<char>((v >> shift) & 0xff);
}

// IDX header: 0 0 type rank, then each dimension as big-endian u32.
Bytes idx_header(uint8_t type, const std::vector<uint32_t>& dims) {
  Bytes b{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) append_u32_be(b, d);
  return b;
}

// A value's bytes in big-endian order.
template <class T>
Bytes be(T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  Bytes out;
  for (size_t i = sizeof(T); i-- > 0;) out += bytes[i];
  return out;
}

// ---------------------------------------------------------------------------------- IDX

TEST(ReadIdx, PlainUbyteGivesShapeAndRawValues) {
  const std::string folder = temp_folder();
  Bytes file = idx_header(0x08, {2, 3});
  for (unsigned char v : {0, 1, 2, 127, 128, 255}) file += static_cast<char>(v);
  const Tensor t = read_idx(write_file(folder + "/a.idx", file));
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.dtype(), DType::f32);
  EXPECT_EQ(t.to_vector(), (std::vector<double>{0, 1, 2, 127, 128, 255}));
}

TEST(ReadIdx, EveryDataTypeIsBigEndian) {
  const std::string folder = temp_folder();
  const Bytes b = idx_header(0x09, {3}) + Bytes{'\xff', '\x80', '\x05'};
  EXPECT_EQ(read_idx(write_file(folder + "/byte", b)).to_vector(), (std::vector<double>{-1, -128, 5}));
  const Bytes s = idx_header(0x0B, {2}) + be<int16_t>(-300) + be<int16_t>(1234);
  EXPECT_EQ(read_idx(write_file(folder + "/short", s)).to_vector(), (std::vector<double>{-300, 1234}));
  const Bytes i = idx_header(0x0C, {2}) + be<int32_t>(-70000) + be<int32_t>(16777216);
  EXPECT_EQ(read_idx(write_file(folder + "/int", i)).to_vector(), (std::vector<double>{-70000, 16777216}));
  const Bytes f = idx_header(0x0D, {2}) + be<float>(1.5f) + be<float>(-0.25f);
  EXPECT_EQ(read_idx(write_file(folder + "/float", f)).to_vector(), (std::vector<double>{1.5, -0.25}));
  const Bytes d = idx_header(0x0E, {1, 2}) + be<double>(3.25) + be<double>(-1e10);
  const Tensor td = read_idx(write_file(folder + "/double", d));
  EXPECT_EQ(td.shape(), (Shape{1, 2}));
  EXPECT_EQ(td.dtype(), DType::f32);
  EXPECT_EQ(td.to_vector(), (std::vector<double>{3.25, -1e10}));
}

TEST(ReadIdx, GzipGivesTheSameAsPlain) {
  const std::string folder = temp_folder();
  Bytes file = idx_header(0x08, {3, 2, 2});
  for (int v = 0; v < 12; ++v) file += static_cast<char>(v * 20);
  const Tensor plain = read_idx(write_file(folder + "/x.idx", file));
  const Tensor gz = read_idx(write_gz(folder + "/x.idx.gz", file));
  EXPECT_EQ(read_bytes(folder + "/x.idx.gz").substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(gz.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(gz.to_vector(), plain.to_vector());
  EXPECT_EQ(gz.at({2, 1, 1}), 220);
}

TEST(ReadIdx, GzipLargerThanOneChunk) {
  // 3 MB of data crosses the reader's 1 MB chunks.
  const std::string folder = temp_folder();
  const uint32_t n = 3 * 1024 * 1024 + 5;
  Bytes file = idx_header(0x08, {n});
  for (uint32_t i = 0; i < n; ++i) file += static_cast<char>(i % 251);
  const Tensor t = read_idx(write_gz(folder + "/big.gz", file));
  ASSERT_EQ(t.shape(), (Shape{n}));
  const float* p = t.data<float>();
  EXPECT_EQ(p[0], 0);
  EXPECT_EQ(p[n - 1], static_cast<float>((n - 1) % 251));
  EXPECT_EQ(p[1048576 + 7], static_cast<float>((1048576 + 7) % 251));
}

TEST(ReadIdx, TruncatedPlainFileNamesPathAndByteCounts) {
  const std::string folder = temp_folder();
  const Bytes file = idx_header(0x08, {2, 3}) + Bytes(5, '\x01');  // 12 + 5 = 17 of 18 bytes
  const std::string path = write_file(folder + "/short.idx", file);
  const std::string message = error_of([&] { read_idx(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  EXPECT_NE(message.find("18 bytes"), std::string::npos) << message;
  EXPECT_NE(message.find("has 17"), std::string::npos) << message;
}

TEST(ReadIdx, TruncatedGzipDataNamesByteCounts) {
  const std::string folder = temp_folder();
  // A complete gzip stream whose content is one byte short.
  const std::string path = write_gz(folder + "/short.gz", idx_header(0x0B, {4}) + Bytes(7, '\0'));
  const std::string message = error_of([&] { read_idx(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("16 bytes"), std::string::npos) << message;
  EXPECT_NE(message.find("has 15"), std::string::npos) << message;
}

TEST(ReadIdx, CutGzipStreamIsAnError) {
  const std::string folder = temp_folder();
  Bytes content = idx_header(0x08, {4000});
  for (int i = 0; i < 4000; ++i) content += static_cast<char>((i * 7919) % 256);
  const Bytes gz = read_bytes(write_gz(folder + "/full.gz", content));
  const std::string path = write_file(folder + "/cut.gz", gz.substr(0, gz.size() / 2));
  const std::string message = error_of([&] { read_idx(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  // Without its 8-byte trailer (CRC, size) all the data is there but unverified.
  const std::string no_trailer = write_file(folder + "/no_trailer.gz", gz.substr(0, gz.size() - 8));
  EXPECT_NE(error_of([&] { read_idx(no_trailer); }).find("gzip"), std::string::npos);
}

TEST(ReadIdx, CorruptGzipStreamIsAnError) {
  const std::string folder = temp_folder();
  Bytes content = idx_header(0x08, {4000});
  for (int i = 0; i < 4000; ++i) content += static_cast<char>((i * 7919) % 256);
  const Bytes gz = read_bytes(write_gz(folder + "/full.gz", content));
  ASSERT_EQ(read_idx(folder + "/full.gz").numel(), 4000);
  // The trailer is CRC-32 (4 bytes) then the length (4 bytes); before it, deflate data.
  const std::pair<size_t, const char*> corruptions[] = {
      {6, "incorrect data check"}, {2, "incorrect length check"}, {20, ""}};
  for (const auto& [from_end, expected] : corruptions) {
    Bytes bad = gz;
    bad[bad.size() - from_end] ^= 0x55;
    const std::string path = write_file(folder + "/bad" + std::to_string(from_end) + ".gz", bad);
    const std::string message = error_of([&] { read_idx(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  }
}

TEST(ReadIdx, BadHeadersAreErrors) {
  const std::string folder = temp_folder();
  auto message = [&](const std::string& name, const Bytes& bytes) {
    return error_of([&] { read_idx(write_file(folder + "/" + name, bytes)); });
  };
  EXPECT_NE(message("magic", Bytes{'\x01', '\0', '\x08', '\x01', '\0', '\0', '\0', '\0'}).find("not an IDX file"),
            std::string::npos);
  EXPECT_NE(message("type", idx_header(0x0A, {1}) + Bytes(1, '\0')).find("unknown IDX data type 0x0a"),
            std::string::npos);
  EXPECT_NE(message("rank0", idx_header(0x08, {})).find("rank 0"), std::string::npos);
  EXPECT_NE(message("tiny", Bytes{'\0', '\0'}).find("too short"), std::string::npos);
  EXPECT_NE(message("dims", idx_header(0x08, {2, 3}).substr(0, 9)).find("truncated"), std::string::npos);
  EXPECT_NE(message("trailing", idx_header(0x08, {2}) + Bytes(3, '\0')).find("trailing"), std::string::npos);
  EXPECT_NE(message("overflow", idx_header(0x0E, {0xffffffff, 0xffffffff, 0xffffffff})).find("overflow"),
            std::string::npos);
}

TEST(ReadIdx, HugeHeaderWithLittleDataFailsWithoutAllocating) {
  // The header promises 2^62 bytes; the reader must notice the missing data, not allocate.
  const std::string folder = temp_folder();
  const Bytes file = idx_header(0x08, {1u << 31, 1u << 31}) + Bytes(100, '\0');
  const std::string plain = write_file(folder + "/huge.idx", file);
  EXPECT_NE(error_of([&] { read_idx(plain); }).find("truncated"), std::string::npos);
  const std::string gz = write_gz(folder + "/huge.gz", file);
  EXPECT_NE(error_of([&] { read_idx(gz); }).find("has 112"), std::string::npos);
}

TEST(ReadIdx, MissingFileNamesThePath) {
  const std::string path = temp_folder() + "/nothing.idx";
  EXPECT_NE(error_of([&] { read_idx(path); }).find(path), std::string::npos);
}

// ---------------------------------------------------------------------------------- CSV

TEST(ReadCsv, HeaderLastColumnLabelCrlfAndTrailingNewline) {
  const std::string path =
      write_file(temp_folder() + "/data.csv", "age,\"height, cm\",label\r\n31,180.5,1\r\n-2.5e1, +7 ,0\r\n");
  const CsvData data = read_csv(path);
  EXPECT_EQ(data.x.shape(), (Shape{2, 2}));
  EXPECT_EQ(data.y.shape(), (Shape{2}));
  EXPECT_EQ(data.x.to_vector(), (std::vector<double>{31, 180.5, -25, 7}));
  EXPECT_EQ(data.y.to_vector(), (std::vector<double>{1, 0}));
  EXPECT_EQ(data.feature_names, (std::vector<std::string>{"age", "height, cm"}));
}

TEST(ReadCsv, LabelColumnByNameByIndexAndWithoutHeader) {
  const std::string folder = temp_folder();
  const std::string path = write_file(folder + "/d.csv", "a;price;c\n1;10;100\n2;20;200\n");
  const CsvData by_name = read_csv(path, {.label_column = "price", .delimiter = ';'});
  EXPECT_EQ(by_name.y.to_vector(), (std::vector<double>{10, 20}));
  EXPECT_EQ(by_name.x.to_vector(), (std::vector<double>{1, 100, 2, 200}));
  EXPECT_EQ(by_name.feature_names, (std::vector<std::string>{"a", "c"}));
  const CsvData by_index = read_csv(path, {.label_column = "0", .delimiter = ';'});
  EXPECT_EQ(by_index.y.to_vector(), (std::vector<double>{1, 2}));

  const std::string plain = write_file(folder + "/n.csv", "5,6,7\n8,9,10");  // no trailing newline
  const CsvData no_header = read_csv(plain, {.header = false, .label_column = "1"});
  EXPECT_EQ(no_header.x.to_vector(), (std::vector<double>{5, 7, 8, 10}));
  EXPECT_EQ(no_header.y.to_vector(), (std::vector<double>{6, 9}));
  EXPECT_EQ(no_header.feature_names, (std::vector<std::string>{"0", "2"}));
}

TEST(ReadCsv, NonNumericCellNamesRowColumnAndText) {
  const std::string path = write_file(temp_folder() + "/data.csv", "id,age,y\n1,20,0\n2,abc,1\n");
  const std::string message = error_of([&] { read_csv(path); });
  EXPECT_NE(message.find(path + ": row 3, column 'age': 'abc' is not a number"), std::string::npos) << message;
}

TEST(ReadCsv, RowNumbersCountBlankLinesAsASpreadsheetDoes) {
  const std::string path = write_file(temp_folder() + "/data.csv", "x,y\n1,0\n\n2,0\n3,1x\n\n");
  const std::string message = error_of([&] { read_csv(path); });
  EXPECT_NE(message.find("row 5, column 'y': '1x' is not a number"), std::string::npos) << message;
}

TEST(ReadCsv, EmptyAndNonFiniteCellsAreErrors) {
  const std::string folder = temp_folder();
  const std::string empty = write_file(folder + "/e.csv", "x,y\n1,\n");
  EXPECT_NE(error_of([&] { read_csv(empty); }).find("row 2, column 'y': the cell is empty"), std::string::npos);
  const std::string nan = write_file(folder + "/n.csv", "x,y\nnan,1\n");
  EXPECT_NE(error_of([&] { read_csv(nan); }).find("'nan'"), std::string::npos);
  const std::string big = write_file(folder + "/b.csv", "x,y\n1e39,1\n");
  EXPECT_NE(error_of([&] { read_csv(big); }).find("'1e39'"), std::string::npos);
}

TEST(ReadCsv, RaggedRowNamesRowAndCounts) {
  const std::string path = write_file(temp_folder() + "/r.csv", "a,b,c\n1,2,3\n4,5\n");
  const std::string message = error_of([&] { read_csv(path); });
  EXPECT_NE(message.find("row 3 has 2 columns, expected 3"), std::string::npos) << message;
}

TEST(ReadCsv, UnknownLabelColumnListsTheColumns) {
  const std::string path = write_file(temp_folder() + "/u.csv", "age,height,weight\n1,2,3\n");
  const std::string message = error_of([&] { read_csv(path, {.label_column = "price"}); });
  EXPECT_NE(message.find("'price'"), std::string::npos) << message;
  EXPECT_NE(message.find("'age', 'height', 'weight'"), std::string::npos) << message;
  EXPECT_NE(error_of([&] { read_csv(path, {.label_column = "3"}); }).find("out of range"), std::string::npos);
}

TEST(ReadCsv, FilesWithoutDataAreErrors) {
  const std::string folder = temp_folder();
  EXPECT_NE(error_of([&] { read_csv(write_file(folder + "/h.csv", "a,b\n")); }).find("no data rows"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_csv(write_file(folder + "/e.csv", "")); }).find("empty"), std::string::npos);
  EXPECT_NE(error_of([&] { read_csv(write_file(folder + "/one.csv", "a\n1\n")); }).find("at least one feature"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_csv(folder + "/missing.csv"); }).find("missing.csv"), std::string::npos);
}

// ---------------------------------------------------------------------------------- NPY

// An NPY file: magic, version, header length (u16 LE for v1, u32 LE after), dict, data.
Bytes npy_file(int major, const std::string& dict, const Bytes& data) {
  Bytes b = "\x93NUMPY";
  b += static_cast<char>(major);
  b += '\0';
  const size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  const size_t n = header.size();
  b += static_cast<char>(n & 0xff);
  b += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) b += Bytes{'\0', '\0'};
  return b + header + data;
}

template <class T>
Bytes le(std::initializer_list<T> values) {
  Bytes out;
  for (T v : values) out.append(reinterpret_cast<const char*>(&v), sizeof(T));  // the host is little-endian
  return out;
}

TEST(ReadNpy, Version1Float32) {
  const std::string path = write_file(
      temp_folder() + "/a.npy",
      npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", le<float>({1, 2, 3, 4, 5, 6.5f})));
  const Tensor t = read_npy(path);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.dtype(), DType::f32);
  EXPECT_EQ(t.to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6.5}));
}

TEST(ReadNpy, Version2Float64StaysFloat64) {
  const std::string path = write_file(
      temp_folder() + "/b.npy",
      npy_file(2, "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (3,)}", le<double>({0.1, -2, 1e300})));
  const Tensor t = read_npy(path);
  EXPECT_EQ(t.shape(), (Shape{3}));
  EXPECT_EQ(t.dtype(), DType::f64);
  EXPECT_EQ(t.to_vector(), (std::vector<double>{0.1, -2, 1e300}));
}

TEST(ReadNpy, IntegerTypesBecomeFloat32) {
  const std::string folder = temp_folder();
  const Tensor u1 =
      read_npy(write_file(folder + "/u1.npy", npy_file(3, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }",
                                                       Bytes{'\0', '\x01', '\x7f', '\xff'})));
  EXPECT_EQ(u1.dtype(), DType::f32);
  EXPECT_EQ(u1.to_vector(), (std::vector<double>{0, 1, 127, 255}));
  const Tensor i8 =
      read_npy(write_file(folder + "/i8.npy", npy_file(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
                                                       le<int64_t>({-5, 0, 1LL << 40}))));
  EXPECT_EQ(i8.to_vector(), (std::vector<double>{-5, 0, 1099511627776.0}));
  const Tensor i4 =
      read_npy(write_file(folder + "/i4.npy", npy_file(1, "{'shape': (1, 2), 'fortran_order': False, 'descr': '<i4'}",
                                                       le<int32_t>({-7, 9}))));
  EXPECT_EQ(i4.shape(), (Shape{1, 2}));
  EXPECT_EQ(i4.to_vector(), (std::vector<double>{-7, 9}));
  const Tensor scalar = read_npy(write_file(
      folder + "/s.npy", npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", le<float>({42}))));
  EXPECT_EQ(scalar.shape(), Shape{});
  EXPECT_EQ(scalar.item(), 42);
}

TEST(ReadNpy, FortranOrderIsAnError) {
  const std::string path =
      write_file(temp_folder() + "/f.npy",
                 npy_file(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 1), }", le<float>({1, 2})));
  EXPECT_NE(error_of([&] { read_npy(path); }).find("Fortran"), std::string::npos);
}

TEST(ReadNpy, BadFilesAreErrors) {
  const std::string folder = temp_folder();
  auto message = [&](const std::string& name, const Bytes& bytes) {
    return error_of([&] { read_npy(write_file(folder + "/" + name, bytes)); });
  };
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const std::string truncated = message("t.npy", npy_file(1, dict, le<float>({1, 2, 3, 4, 5})));
  EXPECT_NE(truncated.find("truncated"), std::string::npos) << truncated;
  EXPECT_NE(truncated.find("needs 24 bytes of data, the file has 20"), std::string::npos) << truncated;
  EXPECT_NE(message("x.npy", npy_file(1, dict, le<float>({1, 2, 3, 4, 5, 6, 7}))).find("trailing"), std::string::npos);
  EXPECT_NE(message("m.npy", Bytes("\x93NUMPZ\x01\x00\x00\x00", 10)).find("not an NPY file"), std::string::npos);
  EXPECT_NE(message("v.npy", npy_file(4, dict, "")).find("version 4.0"), std::string::npos);
  EXPECT_NE(message("be.npy", npy_file(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", le<float>({1})))
                .find("'>f4' is not supported"),
            std::string::npos);
  EXPECT_NE(message("k.npy", npy_file(1, "{'descr': '<f4', 'shape': (1,), }", le<float>({1}))).find("needs the keys"),
            std::string::npos);
  EXPECT_NE(
      message("u.npy", npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", le<float>({1})))
          .find("unknown key 'x'"),
      std::string::npos);
  EXPECT_NE(message("s.npy", npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", ""))
                .find("bad header"),
            std::string::npos);
  EXPECT_NE(
      message("o.npy", npy_file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", ""))
          .find("overflow"),
      std::string::npos);
  Bytes long_header = npy_file(1, dict, le<float>({1, 2, 3, 4, 5, 6}));
  long_header[8] = '\xff';
  long_header[9] = '\xff';  // 65535 bytes of header in a 152-byte file
  EXPECT_NE(message("h.npy", long_header).find("truncated"), std::string::npos);
}

TEST(WriteNpy, HeaderIsByteForByteNumpys) {
  const std::string path = temp_folder() + "/w.npy";
  write_npy(path, Tensor::from(std::vector<float>{1, 2, 3, 4, 5, 6}, Shape{2, 3}));
  const Bytes file = read_bytes(path);
  // 10 bytes of prefix + 59 of dict + 58 spaces + '\n' = 128; the length field says 118 = 0x76.
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + std::string(58, ' ') + "\n";
  const Bytes expected = Bytes("\x93NUMPY\x01\x00\x76\x00", 10) + dict + le<float>({1, 2, 3, 4, 5, 6});
  EXPECT_EQ(file, expected);
  EXPECT_EQ(dict.size(), 118u);
}

TEST(WriteNpy, RoundTripsShapesAndDtypes) {
  const std::string folder = temp_folder();
  const std::vector<Tensor> tensors = {
      Tensor::from(std::vector<float>{1.5f, -2, 3}, Shape{3}),
      Tensor::from(std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}, Shape{2, 2, 2}),
      Tensor::scalar(7.0),
      Tensor::zeros(Shape{0, 4}),
      Tensor::from(std::vector<float>{1, 2, 3, 4, 5, 6}, Shape{3, 2}).rows(1, 3),  // a view with an offset
  };
  for (size_t i = 0; i < tensors.size(); ++i) {
    const std::string path = folder + "/t" + std::to_string(i) + ".npy";
    write_npy(path, tensors[i]);
    EXPECT_EQ(read_bytes(path).find('\n') + 1,
              read_bytes(path).size() - tensors[i].numel() * dtype_size(tensors[i].dtype()));
    EXPECT_EQ(read_bytes(path).find('\n') % 64, 63u) << i;
    const Tensor back = read_npy(path);
    EXPECT_EQ(back.shape(), tensors[i].shape()) << i;
    EXPECT_EQ(back.dtype(), tensors[i].dtype()) << i;
    EXPECT_EQ(back.to_vector(), tensors[i].to_vector()) << i;
  }
}

TEST(WriteNpy, ReplacesAnExistingFileAndLeavesNoTempFile) {
  const std::string folder = temp_folder();
  const std::string path = folder + "/m.npy";
  write_npy(path, Tensor::ones(Shape{100}));
  write_npy(path, Tensor::full(Shape{2}, 3.0));
  EXPECT_EQ(read_npy(path).to_vector(), (std::vector<double>{3, 3}));
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(WriteNpy, UnwritableFolderIsAnErrorNamingThePath) {
  const std::string path = temp_folder() + "/no/such/folder/x.npy";
  const std::string message = error_of([&] { write_npy(path, Tensor::ones(Shape{2})); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(error_of([&] { write_npy(temp_folder() + "/u.npy", Tensor()); }).find("undefined"), std::string::npos);
}

}  // namespace
}  // namespace axon
