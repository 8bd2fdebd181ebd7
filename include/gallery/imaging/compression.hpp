#pragma once
// Server-side re-encoding of large uploads (the original's behaviour, issue 6):
// uploads over the size limit are re-encoded in their own format and dimensions,
// upright, at stepped-down quality (JPEG, WebP) or with fewer colours (PNG).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gallery/catalog/image_format.hpp"
#include "gallery/common/error.hpp"
#include "gallery/imaging/admission.hpp"

namespace gallery::config {
struct Config;
}

namespace gallery::imaging {

struct CompressionSettings {
    std::uint64_t max_bytes = 1024 * 1024;  // uploads larger than this are re-encoded
    int quality = 80;                       // first JPEG/WebP quality tried
    int min_quality = 45;                   // quality floor, stepped down by 10
    std::uint64_t max_pixels = 50'000'000;  // larger images are refused before decoding
    double max_seconds = 20;  // from the request's arrival: a re-encode past it is abandoned
};

CompressionSettings settings_from(const config::Config& config);

struct Compressed {
    std::string bytes;  // the re-encoded image
    int quality = 0;    // JPEG/WebP quality used, or PNG colours (0: lossless)
};

// Whether an upload of this size and format is re-encoded (and so needs a place).
bool needs_reencoding(std::uint64_t upload_bytes, catalog::ImageFormat format,
                      const CompressionSettings& settings);

struct EncodeJob {
    std::string_view upload;  // read without copying; must outlive the call
    catalog::ImageFormat format;
    // The request's arrival: `max_seconds` counts from here, waits included.
    std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now();
    // A place reserved before the body was kept; empty: one is reserved now.
    EncodeAdmission::Place place{};
};

// The re-encoded bytes to store for an upload, or nullopt to store the upload as it
// is: at or under the limit, GIF, BMP, animated images, and re-encodes that are not
// smaller. Errors: invalid_input for an image that does not decode (truncated,
// corrupt), is over `max_pixels`, or runs past the deadline alone and without having
// waited; overloaded (503, Retry-After) when `admission` refuses it: no place, no slot
// or memory before the deadline, or the deadline passed after a wait or while other
// re-encodes shared the cores. Thread-safe.
Result<std::optional<Compressed>> compress_upload(EncodeJob job,
                                                  const CompressionSettings& settings,
                                                  EncodeAdmission& admission);

}  // namespace gallery::imaging
