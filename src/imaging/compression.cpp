#include "gallery/imaging/compression.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>

#include "gallery/common/log.hpp"
#include "gallery/config/config.hpp"
#include "imaging/image_header.hpp"
#include "imaging/jpeg_requantize.hpp"
#include "imaging/ladder.hpp"
#include "imaging/pixel_codec_loader.hpp"

namespace gallery::imaging {
namespace {

// A JPEG that needs no rotation is requantised in the DCT domain (entropy decoding
// once; no colour conversion, DCT or libvips; see jpeg_requantize.hpp). nullopt:
// it goes through pixels instead.
Result<std::optional<Compressed>> requantise_jpeg(std::string_view upload, SteadyTime deadline,
                                                  const CompressionSettings& settings) {
    auto jpeg = JpegCoefficients::open(upload);
    if (!jpeg) return std::unexpected(jpeg.error());
    if (auto ok = check_pixels((*jpeg)->width(), (*jpeg)->height(), settings); !ok)
        return std::unexpected(ok.error());
    // Upright and within the memory budget; others go through pixels, which hold 3
    // bytes per pixel instead of 6 (4:2:0) to 12 (4:4:4).
    constexpr std::uint64_t k_coefficient_budget = 256 * 1024 * 1024;
    if ((*jpeg)->orientation() != 1 || (*jpeg)->working_bytes() > k_coefficient_budget)
        return std::nullopt;
    if (auto read = (*jpeg)->read_coefficients(deadline); !read)
        return std::unexpected(read.error());
    // The bound costs about half an encode, so it is skipped where it would not rule
    // the quality out: below a quality whose bound was already near the limit.
    std::uint64_t lowest_bound = std::numeric_limits<std::uint64_t>::max();
    const auto bound = [&](int quality) -> std::uint64_t {
        if (lowest_bound <= settings.max_bytes + settings.max_bytes / 8) return 0;
        const std::uint64_t size_at_least = (*jpeg)->size_lower_bound(quality);
        lowest_bound = std::min(lowest_bound, size_at_least);
        return size_at_least;
    };
    auto compressed = search_ladder([&](int quality) { return (*jpeg)->encode(quality); }, bound,
                                    deadline, settings);
    if (!compressed) return std::unexpected(compressed.error());
    return std::optional<Compressed>(std::move(*compressed));
}

void log_warning(const std::string& message) {
    log::warn(message);
}

Result<std::optional<Compressed>> reencode(std::string_view upload, catalog::ImageFormat format,
                                           SteadyTime deadline,
                                           const CompressionSettings& settings) {
    if (format == catalog::ImageFormat::jpeg) {
        auto requantised = requantise_jpeg(upload, deadline, settings);
        if (!requantised || *requantised) return requantised;
    }
    auto codec = pixel_codec();
    if (!codec) return std::unexpected(codec.error());
    return (*codec)->reencode(PixelJob{upload, format, settings, deadline}, &log_warning);
}

bool reencodable(catalog::ImageFormat format) {
    return format == catalog::ImageFormat::jpeg || format == catalog::ImageFormat::webp ||
           format == catalog::ImageFormat::png;
}

}  // namespace

CompressionSettings settings_from(const config::Config& config) {
    CompressionSettings settings;
    settings.max_bytes = config.max_upload_bytes;
    settings.quality = config.compression_quality;
    settings.min_quality = config.compression_min_quality;
    settings.max_pixels = config.max_image_pixels;
    settings.max_seconds = config.compression_timeout_seconds;
    return settings;
}

bool needs_reencoding(std::uint64_t upload_bytes, catalog::ImageFormat format,
                      const CompressionSettings& settings) {
    return upload_bytes > settings.max_bytes && reencodable(format);
}

Result<std::optional<Compressed>> compress_upload(EncodeJob job,
                                                  const CompressionSettings& settings,
                                                  EncodeAdmission& admission) {
    const std::string_view upload = job.upload;
    if (!needs_reencoding(upload.size(), job.format, settings)) return std::nullopt;
    // Refusals that need no decoding come first, before any wait.
    if (job.format == catalog::ImageFormat::jpeg && count_jpeg_scans(upload) > k_max_jpeg_scans) {
        return fail(ErrorKind::invalid_input, "The image could not be decoded: it has more than " +
                                                  std::to_string(k_max_jpeg_scans) + " scans");
    }
    const std::optional<Dimensions> dimensions = header_dimensions(upload, job.format);
    if (dimensions) {
        if (auto ok = check_pixels(dimensions->width, dimensions->height, settings); !ok)
            return std::unexpected(ok.error());
    }
    if (!job.place) {
        auto place = admission.reserve();
        if (!place) return std::unexpected(place.error());
        job.place = std::move(*place);
    }
    const SteadyTime deadline =
        job.arrived + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(settings.max_seconds));
    // An unreadable header is charged as the largest image allowed.
    const std::uint64_t pixels =
        dimensions ? dimensions->width * dimensions->height : settings.max_pixels;
    const std::uint64_t charge = pixels * k_bytes_per_pixel;
    auto permit = admission.start(std::move(job.place), charge, deadline);
    if (!permit) return std::unexpected(permit.error());
    Result<std::optional<Compressed>> result;
    try {
        result = reencode(upload, job.format, deadline, settings);
    } catch (const std::bad_alloc&) {
        return fail(ErrorKind::invalid_input, "The image is too large to decode.");
    }
    // Out of time because it waited behind others, or shared the cores with them: a
    // retry can succeed. Alone and from the start, the image itself is too slow (400).
    constexpr auto k_noticeable_wait = std::chrono::milliseconds(100);
    if (!result && result.error().message.starts_with(k_too_slow) &&
        (permit->waited() > k_noticeable_wait || permit->shared_the_slots())) {
        return std::unexpected(admission.refuse(AdmissionRefusal::deadline));
    }
    if (!result) return result;
    if (*result && (*result)->bytes.size() >= upload.size()) return std::nullopt;
    return result;
}

}  // namespace gallery::imaging
