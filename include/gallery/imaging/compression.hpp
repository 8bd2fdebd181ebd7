#pragma once
// Server-side re-encoding of large uploads (the original's behaviour, issue 6):
// uploads over the size limit are re-encoded in their own format and dimensions,
// upright, at stepped-down quality (JPEG, WebP) or with fewer colours (PNG).

#include <cstdint>
#include <string>
#include <string_view>

#include "gallery/catalog/image_format.hpp"
#include "gallery/common/error.hpp"

namespace gallery::config {
struct Config;
}

namespace gallery::imaging {

struct CompressionSettings {
    std::uint64_t max_bytes = 1024 * 1024;  // uploads larger than this are re-encoded
    int quality = 80;                       // first JPEG/WebP quality tried
    int min_quality = 45;                   // quality floor, stepped down by 10
    std::uint64_t max_pixels = 50'000'000;  // larger images are refused before decoding
    double max_seconds = 20;                // a re-encode running longer is abandoned
};

CompressionSettings settings_from(const config::Config& config);

struct Compressed {
    std::string bytes;        // what to store: the re-encoded image or the upload itself
    bool compressed = false;  // true when `bytes` are the re-encoded ones
    int quality = 0;          // JPEG/WebP quality used, or PNG colours (0: lossless)
};

// Returns the bytes to store for an upload of `format`. Uploads at or under the
// limit, GIF, BMP and animated images come back unchanged; so does a re-encode that
// is not smaller than the upload. Errors: invalid_input for an image that does not
// decode (truncated, corrupt), is over `max_pixels`, or takes over `max_seconds`.
// Thread-safe; at most one re-encode per core runs at a time, which (with
// `max_pixels`) bounds the memory decoding can take.
Result<Compressed> compress_upload(std::string upload, catalog::ImageFormat format,
                                   const CompressionSettings& settings);

}  // namespace gallery::imaging
