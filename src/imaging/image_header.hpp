#pragma once
// Width x height read from an image's header bytes, before any decoder runs: what
// admission control charges a re-encode (pixels x bytes per pixel).

#include <cstdint>
#include <optional>
#include <string_view>

#include "gallery/catalog/image_format.hpp"

namespace gallery::imaging {

struct Dimensions {
    std::uint64_t width = 0;
    std::uint64_t height = 0;
};

// The dimensions its header announces, or nullopt when the header cannot be read (a
// truncated or malformed image, which the decoder will refuse).
std::optional<Dimensions> header_dimensions(std::string_view bytes, catalog::ImageFormat format);

// Whether a PNG's variant can be made a row at a time (png_thumbnail.hpp): its chunks
// up to the first IDAT hold an IHDR that is not interlaced, and no colour profile
// (iCCP) or EXIF (eXIf), which libvips applies. False for anything that is not such a
// PNG, or whose chunks end before an IDAT.
bool png_rows_streamable(std::string_view bytes);

}  // namespace gallery::imaging
