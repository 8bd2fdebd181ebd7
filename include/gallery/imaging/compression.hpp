#pragma once
// Server-side re-encoding of large uploads (the original's behaviour, issue 6):
// uploads over the size limit are re-encoded in their own format and dimensions,
// upright, at stepped-down quality (JPEG, WebP) or with fewer colours (PNG).

#include <cstdint>
#include <optional>
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
    std::string bytes;  // the re-encoded image
    int quality = 0;    // JPEG/WebP quality used, or PNG colours (0: lossless)
};

// The re-encoded bytes to store for an upload of `format`, or nullopt to store the
// upload as it is: at or under the limit, GIF, BMP, animated images, and re-encodes
// that are not smaller. Errors: invalid_input for an image that does not decode
// (truncated, corrupt), is over `max_pixels`, or takes over `max_seconds`.
// Thread-safe; at most one re-encode per core runs at a time, which (with
// `max_pixels`) bounds the memory decoding can take. Reads `upload` without copying.
Result<std::optional<Compressed>> compress_upload(std::string_view upload,
                                                  catalog::ImageFormat format,
                                                  const CompressionSettings& settings);

}  // namespace gallery::imaging
