#include "png.h"

#include <zlib.h>

#include <algorithm>

#include "axon/error.h"

namespace axon::io {

namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

// length, type, data, CRC of type and data.
void chunk(std::string& out, const char* type, const std::string& data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  out += body;
  put_u32(out,
          static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

}  // namespace

std::string grayscale_png(const std::vector<float>& pixels, int64_t height, int64_t width) {
  if (height < 1 || width < 1 || height > 4096 || width > 4096 || static_cast<int64_t>(pixels.size()) != height * width)
    fail("png: ", pixels.size(), " pixels for ", height, "x", width);
  // Each row: filter type 0, then its bytes.
  std::string raw;
  for (int64_t r = 0; r < height; ++r) {
    raw += '\0';
    for (int64_t c = 0; c < width; ++c)
      raw += static_cast<char>(
          static_cast<uint8_t>(std::clamp(pixels[static_cast<size_t>(r * width + c)], 0.0f, 1.0f) * 255.0f + 0.5f));
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size, reinterpret_cast<const Bytef*>(raw.data()),
                static_cast<uLong>(raw.size()), 9) != Z_OK)
    fail("png: compression failed");
  packed.resize(packed_size);
  std::string header;
  put_u32(header, static_cast<uint32_t>(width));
  put_u32(header, static_cast<uint32_t>(height));
  header += std::string{8, 0, 0, 0, 0};  // 8 bits, grayscale, deflate, no filter, no interlace
  std::string png = "\x89PNG\r\n\x1a\n";
  chunk(png, "IHDR", header);
  chunk(png, "IDAT", packed);
  chunk(png, "IEND", "");
  return png;
}

std::string base64(const std::string& bytes) {
  static const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const auto byte = [&](size_t k) {
      return k < bytes.size() ? static_cast<uint32_t>(static_cast<uint8_t>(bytes[k])) : 0u;
    };
    const uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += digits[(v >> 18) & 63];
    out += digits[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? digits[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? digits[v & 63] : '=';
  }
  return out;
}

}  // namespace axon::io
