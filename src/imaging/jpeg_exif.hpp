#pragma once
// The EXIF orientation of a JPEG, read from its APP1 segment without a library.

#include <cstdint>
#include <span>

namespace gallery::imaging {

// `app1` is the segment's data after the marker and length ("Exif\0\0" then a TIFF
// header). Returns the Orientation tag of IFD0 (1..8), or 1 when the segment is not
// EXIF, has no such tag, or is malformed (every offset is bounds-checked).
int exif_orientation(std::span<const std::uint8_t> app1);

}  // namespace gallery::imaging
