#pragma once
// PNG colour reduction: libimagequant picks the palette, libspng writes the
// indexed PNG (libvips' own palette writer only offers 2^bitdepth colours).

#include <cstdint>
#include <span>
#include <string>

#include "gallery/common/error.hpp"

namespace gallery::imaging {

// An 8-bit RGBA image held in memory (not owned), rows packed.
struct RgbaPixels {
    std::span<const std::uint8_t> bytes;
    int width = 0;
    int height = 0;
};

// Quantises `pixels` to at most `colours` (2..256) with dithering and encodes an
// indexed PNG at zlib's maximum compression.
Result<std::string> encode_palette_png(const RgbaPixels& pixels, int colours);

}  // namespace gallery::imaging
