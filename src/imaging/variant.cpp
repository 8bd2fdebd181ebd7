#include "gallery/imaging/variant.hpp"

#include <algorithm>
#include <cmath>

#include "gallery/catalog/image_format.hpp"
#include "gallery/common/log.hpp"
#include "imaging/image_header.hpp"
#include "imaging/jpeg_thumbnail.hpp"
#include "imaging/pixel_codec_loader.hpp"
#include "imaging/png_thumbnail.hpp"

namespace gallery::imaging {
namespace {

void log_warning(const std::string& message) {
    log::warn(message);
}

// A JPEG or PNG in the binary (jpeg_thumbnail.hpp, png_thumbnail.hpp), anything else
// (and the JPEGs and PNGs those leave) through the libvips plugin.
Result<std::string> make(const VariantJob& job, catalog::ImageFormat format,
                         std::chrono::steady_clock::time_point deadline) {
    const ThumbnailJob thumbnail{job.source,     job.variant.width, job.variant.height, job.quality,
                                 job.max_pixels, deadline,          job.format};
    if (format == catalog::ImageFormat::jpeg || format == catalog::ImageFormat::png) {
        auto made = format == catalog::ImageFormat::jpeg ? jpeg_thumbnail(thumbnail)
                                                         : png_thumbnail(thumbnail);
        if (!made) return std::unexpected(made.error());
        if (*made) return std::move(**made);
    }
    auto codec = pixel_codec();
    if (!codec) return std::unexpected(codec.error());
    return (*codec)->thumbnail(thumbnail, &log_warning);
}

}  // namespace

std::uint64_t variant_decode_bytes(std::uint64_t width, std::uint64_t height, VariantDecode decode,
                                   const config::VariantSpec& variant) {
    const auto w = static_cast<double>(width);
    const auto h = static_cast<double>(height);
    if (decode == VariantDecode::whole)
        return std::max<std::uint64_t>(1, width * height) * k_bytes_per_pixel;
    if (decode == VariantDecode::png_rows) {
        // The small image (as png_thumbnail sizes it) and one row: RGBA8 as decoded and
        // flattened in floats, 16 bytes a pixel.
        const double scale = fit_scale(w, h, variant.width, variant.height);
        const auto fitted_width = std::max<std::uint64_t>(1, std::llround(w / scale));
        const auto fitted_height = std::max<std::uint64_t>(1, std::llround(h / scale));
        return fitted_width * fitted_height * k_bytes_per_pixel + width * 2 * k_bytes_per_pixel;
    }
    // The EXIF orientation is not read here, and a rotated image is fitted to the box
    // turned a quarter (jpeg_thumbnail): charge the larger of the two decodes.
    const std::uint64_t shrink =
        std::min(jpeg_decode_denominator(fit_scale(w, h, variant.width, variant.height)),
                 jpeg_decode_denominator(fit_scale(w, h, variant.height, variant.width)));
    return std::max<std::uint64_t>(1, (width / shrink) * (height / shrink)) * k_bytes_per_pixel;
}

Result<std::string> make_variant(const VariantJob& job, EncodeAdmission& admission) {
    const auto format = catalog::sniff_format(job.source);
    if (!format) return fail(ErrorKind::invalid_input, "The stored file is not an image.");
    CompressionSettings limits;
    limits.max_pixels = job.max_pixels;
    const std::optional<Dimensions> dimensions = header_dimensions(job.source, *format);
    // An unreadable header is charged as the largest image allowed.
    std::uint64_t charge = job.max_pixels * k_bytes_per_pixel;
    if (dimensions) {
        if (auto ok = check_pixels(dimensions->width, dimensions->height, limits); !ok)
            return std::unexpected(ok.error());
        const VariantDecode decode =
            *format == catalog::ImageFormat::jpeg ? VariantDecode::jpeg_scaled
            : *format == catalog::ImageFormat::png && png_rows_streamable(job.source)
                ? VariantDecode::png_rows
                : VariantDecode::whole;
        charge = variant_decode_bytes(dimensions->width, dimensions->height, decode, job.variant);
    }
    auto place = admission.reserve();
    if (!place) return std::unexpected(place.error());
    const auto deadline =
        job.arrived + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(job.max_seconds));
    auto permit = admission.start(std::move(*place), charge, deadline);
    if (!permit) return std::unexpected(permit.error());
    auto made = make(job, *format, deadline);
    if (!made && made.error().message.starts_with(k_too_slow) &&
        (permit->waited() > std::chrono::milliseconds(100) || permit->shared_the_slots()))
        return std::unexpected(admission.refuse(AdmissionRefusal::deadline));
    return made;
}

}  // namespace gallery::imaging
