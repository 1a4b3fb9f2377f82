#include "axon/geometry.h"

#include <algorithm>

#include "axon/checked_math.h"
#include "axon/error.h"

namespace axon {

Padding::Padding(const std::string& mode_name) : mode(mode_name) {
  if (mode != "valid" && mode != "same" && mode != "causal")
    fail("padding: expected \"valid\", \"same\", \"causal\" or {top, bottom, left, right}, got \"", mode, "\"");
}

Padding::Padding(std::array<int64_t, 4> explicit_pads) : mode("explicit"), pads(explicit_pads) {
  for (int64_t p : pads)
    if (p < 0) fail("padding: explicit padding must be >= 0, got ", p);
}

void Window::check(const std::string& who) const {
  if (strides.h < 1 || strides.w < 1) fail(who, ": strides must be >= 1, got (", strides.h, ", ", strides.w, ")");
  if (dilation.h < 1 || dilation.w < 1) fail(who, ": dilation must be >= 1, got (", dilation.h, ", ", dilation.w, ")");
}

Geometry2D Window::resolve(int64_t h, int64_t w, Size2 kernel) const {
  Geometry2D g{strides.h, strides.w, 0, 0, 0, 0, dilation.h, dilation.w};
  if (padding.mode == "explicit") {
    g.pad_top = padding.pads[0], g.pad_bottom = padding.pads[1], g.pad_left = padding.pads[2],
    g.pad_right = padding.pads[3];
  } else if (padding.mode == "causal") {  // everything before: output t sees inputs <= t
    g.pad_top = checked_mul(kernel.h - 1, dilation.h, "padding: dilated kernel");
    g.pad_left = checked_mul(kernel.w - 1, dilation.w, "padding: dilated kernel");
  } else if (padding.mode == "same") {  // the odd pixel goes to the bottom / right, as TensorFlow
    auto total = [](int64_t size, int64_t k, int64_t s, int64_t d) {
      const int64_t out = size / s + (size % s != 0);  // ceil without overflow; the sum below is checked
      return std::max<int64_t>(
          checked_add((out - 1) * s, checked_mul(k - 1, d, "padding: dilated kernel"), "padding") - size + 1, 0);
    };
    const int64_t ph = total(h, kernel.h, strides.h, dilation.h), pw = total(w, kernel.w, strides.w, dilation.w);
    g.pad_top = ph / 2, g.pad_bottom = ph - ph / 2, g.pad_left = pw / 2, g.pad_right = pw - pw / 2;
  }
  return g;
}

}  // namespace axon
