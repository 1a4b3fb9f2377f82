#pragma once
// A grayscale image as PNG bytes (8-bit, zlib-compressed), for pictures inside reports.
#include <cstdint>
#include <string>
#include <vector>

namespace axon::io {

// pixels: height * width values in [0, 1] (clamped), row by row.
std::string grayscale_png(const std::vector<float>& pixels, int64_t height, int64_t width);

std::string base64(const std::string& bytes);

}  // namespace axon::io
