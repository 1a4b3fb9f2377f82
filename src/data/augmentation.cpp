#include "axon/augmentation.h"

#include <algorithm>

#include "axon/registry.h"
#include "kernels/parallel.h"

namespace axon {

AXON_REGISTER(Augmentation, "random_flip", RandomFlip);
AXON_REGISTER(Augmentation, "random_translation", RandomTranslation);

std::shared_ptr<RandomFlip> RandomFlip::from_config(const ConfigReader& c) {
  const std::string mode = c.string_or("mode", "horizontal");
  return c.named([&] { return std::make_shared<RandomFlip>(mode); });
}

std::shared_ptr<RandomTranslation> RandomTranslation::from_config(const ConfigReader& c) {
  return std::make_shared<RandomTranslation>(c.integer("pixels", 0));
}

namespace {

void check_images(const Tensor& images, const std::string& who) {
  if (images.rank() != 4) fail(who, ": expects images (batch, channels, height, width), got ", images.shape());
  if (images.dtype() != DType::f32) fail(who, ": expects float32 images");
}

}  // namespace

RandomFlip::RandomFlip(const std::string& mode)
    : mode_(mode), horizontal_(mode != "vertical"), vertical_(mode != "horizontal") {
  if (mode != "horizontal" && mode != "vertical" && mode != "horizontal_and_vertical")
    fail("RandomFlip: mode must be \"horizontal\", \"vertical\" or \"horizontal_and_vertical\", got \"", mode, "\"");
}

void RandomFlip::apply(Tensor& images, Generator& generator) const {
  check_images(images, "RandomFlip");
  const int64_t n = images.dim(0), c = images.dim(1), h = images.dim(2), w = images.dim(3);
  std::vector<uint8_t> flip_x(static_cast<size_t>(n)),
      flip_y(static_cast<size_t>(n));  // drawn in order: the result does not depend on threads
  for (int64_t i = 0; i < n; ++i) {
    flip_x[static_cast<size_t>(i)] = horizontal_ && generator.below(2);
    flip_y[static_cast<size_t>(i)] = vertical_ && generator.below(2);
  }
  float* data = images.data<float>();
  kernels::parallel_for(n, c * h * w, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t p = 0; p < c; ++p) {
        float* plane = data + (i * c + p) * h * w;
        if (flip_x[static_cast<size_t>(i)])
          for (int64_t y = 0; y < h; ++y) std::reverse(plane + y * w, plane + (y + 1) * w);
        if (flip_y[static_cast<size_t>(i)])
          for (int64_t y = 0; y < h / 2; ++y)
            std::swap_ranges(plane + y * w, plane + (y + 1) * w, plane + (h - 1 - y) * w);
      }
  });
}

RandomTranslation::RandomTranslation(int64_t pixels) : pixels_(pixels) {
  if (pixels < 0) fail("RandomTranslation: pixels must be >= 0, got ", pixels);
}

void RandomTranslation::apply(Tensor& images, Generator& generator) const {
  check_images(images, "RandomTranslation");
  const int64_t n = images.dim(0), c = images.dim(1), h = images.dim(2), w = images.dim(3);
  std::vector<int64_t> shift_y(static_cast<size_t>(n)), shift_x(static_cast<size_t>(n));
  const auto span = static_cast<uint64_t>(2 * pixels_ + 1);
  for (int64_t i = 0; i < n; ++i) {
    shift_y[static_cast<size_t>(i)] = static_cast<int64_t>(generator.below(span)) - pixels_;
    shift_x[static_cast<size_t>(i)] = static_cast<int64_t>(generator.below(span)) - pixels_;
  }
  float* data = images.data<float>();
  kernels::parallel_for(n, c * h * w, [&](int64_t i0, int64_t i1) {
    std::vector<float> source(static_cast<size_t>(h * w));
    for (int64_t i = i0; i < i1; ++i) {
      // out[y][x] = in[y - dy][x - dx], zero where that falls outside
      const int64_t dy = shift_y[static_cast<size_t>(i)], dx = shift_x[static_cast<size_t>(i)];
      if (dy == 0 && dx == 0) continue;
      const int64_t x0 = std::clamp<int64_t>(dx, 0, w),
                    x1 = std::clamp<int64_t>(w + dx, 0, w);  // columns that receive pixels
      for (int64_t p = 0; p < c; ++p) {
        float* plane = data + (i * c + p) * h * w;
        std::copy(plane, plane + h * w, source.begin());
        for (int64_t y = 0; y < h; ++y) {
          float* row = plane + y * w;
          const int64_t from = y - dy;
          if (from < 0 || from >= h || x0 >= x1) {
            std::fill(row, row + w, 0.0f);
            continue;
          }
          std::fill(row, row + x0, 0.0f);
          std::copy(source.begin() + from * w + (x0 - dx), source.begin() + from * w + (x1 - dx), row + x0);
          std::fill(row + x1, row + w, 0.0f);
        }
      }
    }
  });
}

}  // namespace axon
