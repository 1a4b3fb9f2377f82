// Replays every committed fuzz input, seeds and crashes alike
// (tests/fuzz/<target>/{seeds,crashes}/*), through the fuzz target's own entry: each
// must be accepted or refused with an Error, never crash, hang or leak (the sanitizer
// build checks the last two). A crash that scripts/fuzz finds is fixed and its input
// committed under crashes/, where this test keeps it fixed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz/fuzz_entries.h"

namespace axon {
namespace {

std::string bytes_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(FuzzRegressions, EveryCommittedInputIsAcceptedOrRefused) {
  const std::filesystem::path root = std::filesystem::path(AXON_SOURCE_DIR) / "tests" / "fuzz";
  size_t replayed = 0;
  for (const auto& [target, entry] : fuzz::entries()) {
    ASSERT_TRUE(std::filesystem::is_directory(root / target / "seeds")) << target << " has no seed corpus";
    for (const char* kind : {"seeds", "crashes"}) {
      if (!std::filesystem::is_directory(root / target / kind)) continue;
      for (const auto& file : std::filesystem::directory_iterator(root / target / kind)) {
        SCOPED_TRACE(file.path().string());
        entry(bytes_of(file.path()));
        ++replayed;
      }
    }
  }
  EXPECT_GE(replayed, 30u);
}

}  // namespace
}  // namespace axon
