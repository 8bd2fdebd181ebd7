#pragma once
// Making an image's variant (issue 41): the stored image fitted inside the variant's
// box, as JPEG or WebP (plugin/pixel_codec.hpp's thumbnail). It shares re-encoding's
// admission control: a place, a slot and its decode memory, within the deadline.

#include <chrono>
#include <string>
#include <string_view>

#include "gallery/common/error.hpp"
#include "gallery/config/config.hpp"
#include "gallery/imaging/admission.hpp"

namespace gallery::imaging {

struct VariantJob {
    std::string_view source;  // the stored image's bytes; must outlive the call
    const config::VariantSpec& variant;
    int quality = 80;
    std::uint64_t max_pixels = 50'000'000;
    // The request's arrival and the time allowed from it (compression_timeout_seconds).
    std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now();
    double max_seconds = 20;
    VariantFormat format = VariantFormat::jpeg;
};

// The variant's bytes in job.format. Errors: invalid_input for a source that is not an image
// libvips decodes (or is over max_pixels); overloaded (503, Retry-After) when
// `admission` has no place, slot or memory before the deadline. Thread-safe.
Result<std::string> make_variant(const VariantJob& job, EncodeAdmission& admission);

// How a variant's source is decoded, which decides what admission charges for it.
enum class VariantDecode {
    whole,        // libvips, the whole image (WebP, GIF, BMP, the PNGs below)
    jpeg_scaled,  // libjpeg, already shrunk by up to 8 in each direction
    png_rows,     // libspng a row at a time: not interlaced, no iCCP or eXIf
};

// Decode memory a variant of a width x height image is charged.
std::uint64_t variant_decode_bytes(std::uint64_t width, std::uint64_t height, VariantDecode decode,
                                   const config::VariantSpec& variant);

}  // namespace gallery::imaging
