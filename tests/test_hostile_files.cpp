// Hostile files and failed runs (issue 17): sizes that overflow int64, FIFOs and
// devices given as files, unbounded CSV, stale temp files of killed writers, damaged
// checkpoints, gzip with trailing garbage. Each test fails on the code before its fix.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>

#include "axon/axon.h"
#include "axon/checked_math.h"
#include "axon/checkpoint.h"
#include "axon/model_file.h"
#include "axon/readers.h"
#include "axon/regular_file.h"
#include "axon/safetensors.h"
#include "error_of.h"
#include "io/atomic_file.h"
#include "kernels/conv.h"

namespace axon {
namespace {

using test_support::error_of;

constexpr int64_t kHuge = int64_t{1} << 62;

// A fresh empty folder for one test.
std::string temp_folder() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path folder =
      std::filesystem::path(testing::TempDir()) / ("axon_hostile_" + std::to_string(::getpid())) / info->name();
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  return folder.string();
}

std::string write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// Runs f in a child process that SIGALRM kills after `seconds`: a reader that blocks
// (a FIFO opened for reading) fails the test instead of hanging it. The child's
// result: "" when f threw an Error containing `expected`, else what happened.
std::string in_child_within(int seconds, const std::function<void()>& f, const std::string& expected) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return "pipe failed";
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    ::alarm(static_cast<unsigned>(seconds));
    std::string result = "no error";
    try {
      f();
    } catch (const Error& e) {
      result = std::string(e.what()).find(expected) == std::string::npos ? std::string("wrong error: ") + e.what() : "";
    }
    [[maybe_unused]] const ssize_t written = ::write(pipe_fds[1], result.data(), result.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  int status = 0;
  ::waitpid(child, &status, 0);
  char buffer[512];
  const ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
  ::close(pipe_fds[0]);
  if (WIFSIGNALED(status))
    return WTERMSIG(status) == SIGALRM ? "hung (killed after the time limit)" : "killed by a signal";
  return std::string(buffer, got > 0 ? static_cast<size_t>(got) : 0);
}

// --- 3: sizes that overflow int64 fail naming what overflowed, never wrap (UB) ---

TEST(CheckedMath, FailsNamingWhatOverflowed) {
  EXPECT_EQ(checked_mul(int64_t{3}, int64_t{4}, "x"), 12);
  EXPECT_EQ(checked_add(int64_t{3}, int64_t{4}, "x"), 7);
  EXPECT_EQ(error_of([] { checked_mul(kHuge, int64_t{4}, "Conv2D: kernel size"); }),
            "Conv2D: kernel size: 4611686018427387904 * 4 overflows int64");
  EXPECT_NE(error_of([] { checked_add(INT64_MAX, int64_t{1}, "padded height"); }).find("padded height"),
            std::string::npos);
}

TEST(Overflow, Conv2DWithAHugeKernelFailsWhenBuilt) {
  Sequential model;
  model.add(Conv2D(1, {kHuge, kHuge}, "linear", {.padding = "same"}));
  EXPECT_NE(error_of([&] { model.build(Shape{1, 4, 4}); }).find("overflows int64"), std::string::npos);
}

TEST(Overflow, ConvGeometryWithHugeDilationOrPaddingFails) {
  const Geometry2D dilated{1, 1, 0, 0, 0, 0, kHuge, 1};
  EXPECT_NE(error_of([&] { kernels::conv2d_output_size(5, 5, 3, 3, dilated, "conv2d"); }).find("overflows int64"),
            std::string::npos);
  const Geometry2D padded{1, 1, INT64_MAX, INT64_MAX, 0, 0, 1, 1};
  EXPECT_NE(error_of([&] { kernels::conv2d_output_size(5, 5, 3, 3, padded, "conv2d"); }).find("padded height"),
            std::string::npos);
}

TEST(Overflow, Conv1DWithAHugeKernelFails) {
  Sequential model;
  model.add(Conv1D(4, kHuge, "linear", {.padding = "same"}));
  EXPECT_NE(error_of([&] { model.build(Shape{8, 4}); }).find("overflows int64"), std::string::npos);
}

TEST(Overflow, ReshapeTargetThatOverflowsFails) {
  const Tensor x = Tensor::zeros({4});
  EXPECT_NE(error_of([&] { x.reshape({kHuge, 8, -1}); }).find("reshape"), std::string::npos);
}

TEST(Overflow, HugeBatchSizeIsOneBatchOfEverything) {
  auto dataset = std::make_shared<TensorDataset>(Tensor::zeros({10, 2}), Tensor::zeros({10}));
  DataLoader loader(dataset, INT64_MAX);
  EXPECT_EQ(loader.num_batches(), 1);  // (n + batch_size - 1) wrapped to a negative count: 0 steps
  DataLoader dropping(dataset, 3, false, 0, true);
  EXPECT_EQ(dropping.num_batches(), 3);
}

// --- 4: a FIFO (or a device) given as a file is refused at once, never waited on ---

class Fifo : public testing::Test {
 protected:
  void SetUp() override {
    path = temp_folder() + "/pipe";
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  }
  std::string path;
};

TEST_F(Fifo, EveryReaderRefusesIt) {
  const std::string p = path;
  EXPECT_EQ(in_child_within(
                5, [&] { load_safetensors(p); }, "not a regular file"),
            "");
  EXPECT_EQ(in_child_within(
                5, [&] { load_model(p); }, "not a regular file"),
            "");
  EXPECT_EQ(in_child_within(
                5, [&] { read_idx(p); }, "not a regular file"),
            "");
  EXPECT_EQ(in_child_within(
                5, [&] { read_csv(p); }, "not a regular file"),
            "");
  EXPECT_EQ(in_child_within(
                5, [&] { read_npy(p); }, "not a regular file"),
            "");
  EXPECT_EQ(in_child_within(
                5, [&] { read_regular_file(p, "spec", 1 << 20); }, "spec: " + p + ": not a regular file (a pipe)"),
            "");
}

TEST(RegularFile, RefusesFoldersDevicesAndFilesOverTheLimit) {
  const std::string folder = temp_folder();
  EXPECT_NE(error_of([&] { RegularFile f(folder, "who"); }).find("not a regular file (a folder)"), std::string::npos);
  EXPECT_NE(error_of([] { RegularFile f("/dev/null", "who"); }).find("not a regular file"), std::string::npos);
  const std::string path = write_file(folder + "/ten", "0123456789");
  EXPECT_EQ(read_regular_file(path, "who", 10), "0123456789");
  EXPECT_EQ(error_of([&] { read_regular_file(path, "who", 9); }),
            "who: " + path + ": 10 bytes is over the limit of 9 bytes");
}

// --- 5: read_csv is bounded: regular files only, a size limit, a line limit ---

TEST(CsvLimits, DevZeroIsRefusedAtOnce) {
  EXPECT_EQ(in_child_within(
                5, [] { read_csv("/dev/zero"); }, "read_csv: /dev/zero: not a regular file"),
            "");
}

TEST(CsvLimits, LongLinesAndLargeFilesAreRefused) {
  const std::string folder = temp_folder();
  const std::string wide = write_file(folder + "/wide.csv", "a,b\n" + std::string(3 << 20, '1') + ",2\n");
  EXPECT_NE(error_of([&] { read_csv(wide); }).find("row 2 is longer than the limit of 1048576 bytes"),
            std::string::npos);
  const std::string small = write_file(folder + "/small.csv", "a,b\n1,2\n3,4\n");
  EXPECT_NE(error_of([&] { read_csv(small, {.max_bytes = 8}); }).find("over the limit of 8 bytes"), std::string::npos);
  const CsvData data = read_csv(small, {.max_line_bytes = 3});  // exactly at the limit is fine
  EXPECT_EQ(data.x.shape(), (Shape{2, 1}));
}

TEST(CsvLimits, ManyCellsAreParsedWhileStreaming) {
  // 200k rows across many 64 KiB blocks, lines split between blocks, \r\n endings, quotes.
  const std::string folder = temp_folder();
  std::string text = "\xEF\xBB\xBF\"x \"\"0\"\"\",y\r\n";
  for (int i = 0; i < 200000; ++i) text += std::to_string(i) + ",\"" + std::to_string(i % 3) + "\"\r\n";
  const CsvData data = read_csv(write_file(folder + "/long.csv", text));
  ASSERT_EQ(data.x.shape(), (Shape{200000, 1}));
  EXPECT_EQ(data.x.data<float>()[199999], 199999.0f);
  EXPECT_EQ(data.y.data<float>()[199999], 199999 % 3);
  EXPECT_EQ(data.feature_names, (std::vector<std::string>{"x \"0\""}));
}

// --- 8: temp files left by killed writers are removed at the next write ---

TEST(AtomicFile, RemovesOnlyItsOwnStaleTempFiles) {
  const std::string folder = temp_folder();
  const std::vector<std::string> ours = {".checkpoint.safetensors.tmp-AbC123", ".checkpoint.safetensors.tmp-zzzzzz"};
  const std::vector<std::string> others = {".other.safetensors.tmp-AbC123",       ".checkpoint.safetensors.tmp-AbC12",
                                           ".checkpoint.safetensors.tmp-AbC1234", "checkpoint.safetensors.tmp-AbC123",
                                           ".checkpoint.safetensors.tmp-AbC.23",  ".checkpoint.safetensors.bak"};
  for (const std::string& name : ours) write_file(folder + "/" + name, "stale");
  for (const std::string& name : others) write_file(folder + "/" + name, "keep");
  write_file_atomically(folder + "/checkpoint.safetensors", "new");
  for (const std::string& name : ours) EXPECT_FALSE(std::filesystem::exists(folder + "/" + name)) << name;
  for (const std::string& name : others) EXPECT_TRUE(std::filesystem::exists(folder + "/" + name)) << name;
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(folder)) ++files;
  EXPECT_EQ(files, others.size() + 1);  // the others and the target: no temp file of this write either
}

TEST(AtomicFile, KilledWritersLeaveNoGrowingPileOfTempFiles) {
  const std::string folder = temp_folder(), path = folder + "/big.bin";
  const std::string bytes(4 << 20, 'x');
  for (int round = 0; round < 5; ++round) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      while (true) write_file_atomically(path, bytes);
    }
    ::usleep(30000);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
  }
  write_file_atomically(path, "done");
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(folder)) ++files;
  EXPECT_EQ(files, 1u);
}

// --- 9: damaged checkpoints and gzip with trailing garbage are refused ---

std::unique_ptr<Sequential> small_model() {
  manual_seed(1);
  auto model = std::make_unique<Sequential>(Shape{3});
  model->add(Dense(4, "relu"));
  model->add(Dropout(0.2));
  model->add(Dense(2, "softmax"));
  model->compile(Adam(0.01), "sparse_categorical_crossentropy");
  return model;
}

// A checkpoint after a few steps, rewritten with `edit` applied.
std::string edited_checkpoint(const std::string& folder, const std::function<void(SafetensorsFile&)>& edit) {
  auto model = small_model();
  Generator gen(2);
  const Tensor x = gen.uniform({16, 3}, -1, 1), y = Tensor::zeros({16});
  model->fit(x, y, {.epochs = 1, .batch_size = 8, .verbose = 0});
  const std::string path = folder + "/checkpoint.safetensors";
  save_checkpoint(*model, path, 1);
  SafetensorsFile file = load_safetensors(path);
  edit(file);
  save_safetensors(path, file.tensors, file.metadata);
  return path;
}

TEST(CheckpointDamage, MissingOptimizerSlotIsNamed) {
  const std::string folder = temp_folder();
  const std::string path = edited_checkpoint(folder, [](SafetensorsFile& file) {
    std::erase_if(file.tensors, [](const NamedTensor& t) { return t.name == "optimizer.v.layers.2.bias"; });
  });
  auto model = small_model();
  EXPECT_EQ(error_of([&] { restore_checkpoint(*model, path); }),
            path + ": optimizer state 'optimizer.v.layers.2.bias' is missing");
}

TEST(CheckpointDamage, AllOptimizerSlotsMissingIsNamed) {
  const std::string folder = temp_folder();
  const std::string path = edited_checkpoint(folder, [](SafetensorsFile& file) {
    std::erase_if(file.tensors, [](const NamedTensor& t) { return t.name.starts_with("optimizer."); });
  });
  auto model = small_model();
  EXPECT_EQ(error_of([&] { restore_checkpoint(*model, path); }),
            path + ": optimizer state 'optimizer.m.layers.0.kernel' is missing");
}

TEST(CheckpointDamage, AllZeroGeneratorStateIsRefused) {
  const std::string folder = temp_folder();
  const std::string path = edited_checkpoint(
      folder, [](SafetensorsFile& file) { file.metadata.at("axon.state.layers.1.generator") = "0,0,0,0,0,0"; });
  auto model = small_model();
  EXPECT_NE(error_of([&] { restore_checkpoint(*model, path); }).find("all zero"), std::string::npos);
  // An intact one restores.
  const std::string good = edited_checkpoint(folder, [](SafetensorsFile&) {});
  EXPECT_EQ(restore_checkpoint(*model, good), 1);
}

std::string gzip_bytes(const std::string& content) {
  uLongf size = compressBound(static_cast<uLong>(content.size())) + 32;
  std::string out(size, '\0');
  z_stream s{};
  deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(content.data()));
  s.avail_in = static_cast<uInt>(content.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

TEST(IdxGzip, TrailingGarbageIsRefusedConcatenatedMembersAreNot) {
  const std::string folder = temp_folder();
  const std::string idx = std::string("\0\0\x08\x01\0\0\0\x04", 8) + "\x01\x02\x03\x04";
  EXPECT_EQ(read_idx(write_file(folder + "/ok.gz", gzip_bytes(idx))).numel(), 4);
  const std::string garbage = write_file(folder + "/garbage.gz", gzip_bytes(idx) + "trailing garbage");
  EXPECT_NE(error_of([&] { read_idx(garbage); }).find("trailing data after the compressed data"), std::string::npos);
  const std::string zeros = write_file(folder + "/zeros.gz", gzip_bytes(idx) + std::string(16, '\0'));
  EXPECT_NE(error_of([&] { read_idx(zeros); }).find("gzip"), std::string::npos);
  // `cat a.gz b.gz` is one valid gzip stream.
  const std::string two = write_file(folder + "/two.gz", gzip_bytes(idx.substr(0, 10)) + gzip_bytes(idx.substr(10)));
  const Tensor t = read_idx(two);
  ASSERT_EQ(t.numel(), 4);
  EXPECT_EQ(t.data<float>()[3], 4.0f);
}

}  // namespace
}  // namespace axon
