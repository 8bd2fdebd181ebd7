#pragma once
// A JPEG's variant (issue 41) without libvips: libjpeg-turbo decodes it already
// shrunk (DCT scaling: 1/2, 1/4 or 1/8, whichever stays at or above the box), the
// rest of the way is an area average, EXIF orientation is applied to the small
// image, and the result is written without metadata as a baseline JPEG (or a WebP,
// webp_encode.hpp). A 12 MP photo for a 320 x 320 box is decoded as 500 x 375:
// entropy decoding is the cost.

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "gallery/common/error.hpp"
#include "imaging/plugin/pixel_codec.hpp"

namespace gallery::imaging {

// How much an image of width x height shrinks to fit inside box_width x box_height
// (at least 1: never enlarged), and the libjpeg scale denominator (1, 2, 4 or 8: the
// largest that stays at or above the box) it is decoded at. Admission charges by it.
double fit_scale(double width, double height, double box_width, double box_height);
unsigned jpeg_decode_denominator(double scale);

// A thumbnail's pixels (height rows of width pixels of `components` bytes: 1 grey or
// 3 RGB) as a baseline JPEG at `quality`, or a WebP (webp_encode.hpp); shared with
// png_thumbnail.cpp. invalid_input with a sentence when the encoder gives up.
Result<std::string> encode_thumbnail(std::span<const std::uint8_t> pixels, int width, int height,
                                     int components, int quality, VariantFormat format);

// The variant's bytes; nullopt for a JPEG this path does not convert (CMYK, YCCK:
// the pixel path handles them). invalid_input with a sentence for a JPEG that does
// not decode, is truncated, has too many scans, is over max_pixels, or is still
// decoding at the deadline.
// The job is the plugin's (plugin/pixel_codec.hpp): the same one goes to libvips.
Result<std::optional<std::string>> jpeg_thumbnail(const ThumbnailJob& job);

}  // namespace gallery::imaging
