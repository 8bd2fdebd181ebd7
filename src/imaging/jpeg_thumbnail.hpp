#pragma once
// A JPEG's variant (issue 41) without libvips: libjpeg-turbo decodes it already
// shrunk (DCT scaling: 1/2, 1/4 or 1/8, whichever stays at or above the box), the
// rest of the way is an area average, EXIF orientation is applied to the small
// image, and the result is written as a baseline JPEG without metadata. A 12 MP
// photo for a 320 x 320 box is decoded as 500 x 375: entropy decoding is the cost.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gallery/common/error.hpp"

namespace gallery::imaging {

struct JpegThumbnailJob {
    std::string_view jpeg;
    int box_width = 0;
    int box_height = 0;
    int quality = 80;
    std::uint64_t max_pixels = 0;  // a larger image is refused before decoding
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

// The variant's bytes; nullopt for a JPEG this path does not convert (CMYK, YCCK:
// the pixel path handles them). invalid_input with a sentence for a JPEG that does
// not decode, is truncated, has too many scans, is over max_pixels, or is still
// decoding at the deadline.
Result<std::optional<std::string>> jpeg_thumbnail(const JpegThumbnailJob& job);

}  // namespace gallery::imaging
