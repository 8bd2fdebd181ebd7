#pragma once
// A variant's pixels as a lossy WebP (variant_format = webp), with libwebp's simple
// encoder: the JPEG path (jpeg_thumbnail.hpp) then writes WebP without libvips.

#include <cstdint>
#include <span>
#include <string>

#include "gallery/common/error.hpp"

namespace gallery::imaging {

// `pixels` holds height rows of width pixels of `components` bytes each: 1 (grey) or
// 3 (RGB). `quality` is 1 to 100. invalid_input with a sentence when libwebp refuses
// (a side over 16383 pixels).
Result<std::string> encode_webp(std::span<const std::uint8_t> pixels, int width, int height,
                                int components, int quality);

}  // namespace gallery::imaging
