#pragma once
// The geometry of a sliding window (a convolution's kernel or a pooling window) over
// the spatial axes of NCHW images, in one place for Conv1D, Conv2D and the pools:
//   Size2     a (height, width) pair; one integer n means (n, n), as Keras
//   Padding   "valid", "same" (output = ceil(input / stride), as TensorFlow pads),
//             "causal" (all padding before: output t sees inputs <= t, for sequences)
//             or explicit {top, bottom, left, right}
//   Window    what a layer is configured with: strides, padding, dilation
//   Geometry2D  the window resolved for one input size: what ops and kernels take
// Output size: OH = (H + pad_top + pad_bottom - dilation_h * (KH - 1) - 1) / stride_h + 1.
#include <array>
#include <cstdint>
#include <string>
#include <utility>

namespace axon {

struct Size2 {
  constexpr Size2(int64_t n = 1) : h(n), w(n) {}
  constexpr Size2(int64_t height, int64_t width) : h(height), w(width) {}
  int64_t h, w;
  bool operator==(const Size2&) const = default;
};

struct Padding {
  Padding(const char* mode) : Padding(std::string(mode)) {}
  Padding(const std::string& mode);               // "valid", "same" or "causal"
  Padding(std::array<int64_t, 4> explicit_pads);  // {top, bottom, left, right}, each >= 0
  std::string mode = "valid";                     // or "explicit"
  std::array<int64_t, 4> pads = {0, 0, 0, 0};
  bool operator==(const Padding&) const = default;
};

struct Geometry2D {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
};

struct Window {
  Size2 strides = 1;
  Padding padding = "valid";
  Size2 dilation = 1;
  // The geometry over an input plane (h, w) for a kernel (kh, kw): padding resolved.
  Geometry2D resolve(int64_t h, int64_t w, Size2 kernel) const;
  // Fails naming `who` unless strides and dilation are >= 1.
  void check(const std::string& who) const;
};

}  // namespace axon
