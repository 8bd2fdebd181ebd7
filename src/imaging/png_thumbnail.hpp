#pragma once
// A PNG's variant (issue 41) without libvips: libspng decodes it a row at a time, each
// row is flattened on white and added into the small image as it comes (an area
// average, area_taps.hpp), so neither the whole image nor libvips is ever in memory.
// A 4 MP PNG for a 320 x 320 box holds the 320 x 240 result and one row.

#include <optional>
#include <string>

#include "gallery/common/error.hpp"
#include "imaging/plugin/pixel_codec.hpp"

namespace gallery::imaging {

// The variant's bytes (JPEG or WebP, as job.format says); nullopt for a PNG this path
// leaves to libvips (png_rows_streamable, image_header.hpp, decides): interlaced (rows come a pass
// at a time), or with a colour profile (iCCP: libvips converts it to sRGB) or EXIF (eXIf: its
// orientation). invalid_input with a sentence for a PNG that does not decode, is truncated, is over
// max_pixels, or is still decoding at the deadline.
Result<std::optional<std::string>> png_thumbnail(const ThumbnailJob& job);

}  // namespace gallery::imaging
