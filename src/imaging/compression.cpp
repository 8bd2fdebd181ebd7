#include "gallery/imaging/compression.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>
#include <semaphore>
#include <thread>

#include "gallery/common/log.hpp"
#include "gallery/config/config.hpp"
#include "imaging/jpeg_requantize.hpp"
#include "imaging/ladder.hpp"
#include "imaging/pixel_codec_loader.hpp"

namespace gallery::imaging {
namespace {

// One re-encode per core: with max_pixels this bounds decoding memory to
// cores x max_pixels x 4 bytes, and extra requests wait instead of thrashing.
std::counting_semaphore<256>& encode_slots() {
    static std::counting_semaphore<256> slots(
        std::clamp<std::ptrdiff_t>(std::thread::hardware_concurrency(), 1, 256));
    return slots;
}

struct SlotGuard {
    SlotGuard() { encode_slots().acquire(); }
    ~SlotGuard() { encode_slots().release(); }
    SlotGuard(const SlotGuard&) = delete;
    SlotGuard& operator=(const SlotGuard&) = delete;
};

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
                                           const CompressionSettings& settings) {
    const SteadyTime deadline = std::chrono::steady_clock::now() +
                                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(settings.max_seconds));
    if (format == catalog::ImageFormat::jpeg && count_jpeg_scans(upload) > k_max_jpeg_scans) {
        return fail(ErrorKind::invalid_input, "The image could not be decoded: it has more than " +
                                                  std::to_string(k_max_jpeg_scans) + " scans");
    }
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

Result<std::optional<Compressed>> compress_upload(std::string_view upload,
                                                  catalog::ImageFormat format,
                                                  const CompressionSettings& settings) {
    if (upload.size() <= settings.max_bytes || !reencodable(format)) {
        return std::nullopt;
    }
    SlotGuard slot;
    Result<std::optional<Compressed>> result;
    try {
        result = reencode(upload, format, settings);
    } catch (const std::bad_alloc&) {
        return fail(ErrorKind::invalid_input, "The image is too large to decode.");
    }
    if (!result) return result;
    if (*result && (*result)->bytes.size() >= upload.size()) return std::nullopt;
    return result;
}

}  // namespace gallery::imaging
