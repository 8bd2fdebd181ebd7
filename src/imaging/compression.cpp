#include "gallery/imaging/compression.hpp"

#include <vips/vips8>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <thread>
#include <vector>

#include "gallery/common/log.hpp"
#include "gallery/config/config.hpp"
#include "imaging/jpeg_requantize.hpp"
#include "imaging/png_palette.hpp"

namespace gallery::imaging {
namespace {

using vips::VImage;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr const char* k_too_slow =
    "The image could not be decoded: it took longer than the re-encoding time limit";

// libvips' warnings (a corrupt tile, a truncated file) go to our log, with the
// request id, instead of raw to stderr.
void log_vips_message(const gchar*, GLogLevelFlags, const gchar* message, gpointer) {
    log::warn(std::string("libvips: ") + (message ? message : ""));
}

void initialise_vips() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (VIPS_INIT("gallery") != 0) throw std::runtime_error("libvips failed to start");
        // Loads from memory are cached by buffer address, and cached operations hold
        // decoded pixels: neither is right for a server re-encoding each upload once.
        vips_cache_set_max(0);
        g_log_set_handler("VIPS",
                          static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
                          log_vips_message, nullptr);
    });
}

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

struct BlobDeleter {
    void operator()(VipsBlob* blob) const { vips_area_unref(reinterpret_cast<VipsArea*>(blob)); }
};

std::string take_blob(VipsBlob* raw) {
    std::unique_ptr<VipsBlob, BlobDeleter> blob(raw);
    std::size_t length = 0;
    const void* data = vips_blob_get(blob.get(), &length);
    return std::string(static_cast<const char*>(data), length);
}

// libvips signals progress while it computes an image; past the deadline the
// computation is killed and the save fails (the same bound sharp uses).
void on_eval(VipsImage* image, VipsProgress*, SteadyTime* deadline) {
    if (std::chrono::steady_clock::now() > *deadline) vips_image_set_kill(image, TRUE);
}

void bound_time(VImage& image, SteadyTime* deadline) {
    VipsImage* raw = image.get_image();
    g_signal_connect(raw, "eval", G_CALLBACK(on_eval), deadline);
    vips_image_set_progress(raw, TRUE);
}

class Encoder {
  public:
    Encoder(std::string_view upload, const CompressionSettings& settings)
        : m_upload(upload),
          m_deadline(std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(settings.max_seconds))) {}

    // Header only: libvips decodes nothing until pixels are asked for.
    VImage header() const { return VImage::new_from_buffer(m_upload.data(), m_upload.size(), ""); }

    // The upright image. Without rotation it is decoded as it is encoded (sequential
    // access streams, so each encode decodes again); rotating needs the whole image,
    // so it is decoded and rotated once and kept in memory for every encode.
    VImage upright(bool needs_rotation) {
        if (needs_rotation && m_rotated) return *m_rotated;
        auto* options = VImage::option()->set("fail_on", VIPS_FAIL_ON_TRUNCATED);
        if (!needs_rotation) options->set("access", VIPS_ACCESS_SEQUENTIAL);
        VImage image = VImage::new_from_buffer(m_upload.data(), m_upload.size(), "", options);
        if (needs_rotation) image = image.autorot();
        bound_time(image, &m_deadline);
        if (needs_rotation) {
            m_rotated = image.copy_memory();
            return *m_rotated;
        }
        return image;
    }

    bool past_deadline() const { return std::chrono::steady_clock::now() > m_deadline; }
    SteadyTime deadline() const { return m_deadline; }

  private:
    std::string_view m_upload;
    SteadyTime m_deadline;
    std::optional<VImage> m_rotated;
};

// Checked on the header, before anything is decoded.
Result<void> check_pixels(std::uint64_t width, std::uint64_t height,
                          const CompressionSettings& settings) {
    if (width * height <= settings.max_pixels) return {};
    return fail(ErrorKind::invalid_input, "The image is " + std::to_string(width) + " x " +
                                              std::to_string(height) +
                                              " pixels, over the limit of " +
                                              std::to_string(settings.max_pixels) + " pixels.");
}

using EncodeAt = std::function<Result<std::string>(int quality)>;
// A size the encode at that quality cannot go below (0 when unknown).
using SizeBound = std::function<std::uint64_t(int quality)>;

// JPEG and WebP: the configured quality, then 10 lower at a time down to the floor;
// the stored result is the first quality on that ladder that fits (the floor if
// none does). When the first try does not fit, the rest of the ladder is searched
// by bisection (sizes fall with quality): the same rung in about half the encodes.
// A rung whose lower bound is over the limit is known not to fit without encoding
// it (the floor is always encoded: it is stored whatever its size).
Result<Compressed> search_ladder(const EncodeAt& encode_at, const SizeBound& lower_bound,
                                 const Encoder& encoder, const CompressionSettings& settings) {
    std::vector<int> ladder;
    for (int quality = settings.quality;; quality = std::max(quality - 10, settings.min_quality)) {
        ladder.push_back(quality);
        if (quality <= settings.min_quality) break;
    }
    std::map<std::size_t, std::string> encoded;
    const auto fits = [&](std::size_t rung) -> Result<bool> {
        if (encoder.past_deadline()) return fail(ErrorKind::invalid_input, k_too_slow);
        const bool floor = rung + 1 == ladder.size();
        if (!floor && lower_bound(ladder[rung]) > settings.max_bytes) return false;
        auto bytes = encode_at(ladder[rung]);
        if (!bytes) return std::unexpected(bytes.error());
        const bool fitting = bytes->size() <= settings.max_bytes;
        encoded[rung] = std::move(*bytes);
        return fitting;
    };
    std::size_t low = 0;
    std::size_t high = ladder.size() - 1;
    auto first = fits(0);
    if (!first) return std::unexpected(first.error());
    if (*first) {
        high = 0;
    } else {
        low = 1;
    }
    while (low < high) {
        const std::size_t middle = (low + high) / 2;
        auto fitting = fits(middle);
        if (!fitting) return std::unexpected(fitting.error());
        if (*fitting) {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    if (!encoded.contains(high)) {
        auto fitting = fits(high);  // the floor, never encoded yet
        if (!fitting) return std::unexpected(fitting.error());
    }
    return Compressed{std::move(encoded[high]), ladder[high]};
}

// A JPEG that needs no rotation is requantised in the DCT domain (entropy decoding
// once; no colour conversion, DCT or libvips; see jpeg_requantize.hpp). nullopt:
// it goes through pixels instead.
Result<std::optional<Compressed>> requantise_jpeg(std::string_view upload, const Encoder& encoder,
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
    if (auto read = (*jpeg)->read_coefficients(encoder.deadline()); !read)
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
                                    encoder, settings);
    if (!compressed) return std::unexpected(compressed.error());
    return std::optional<Compressed>(std::move(*compressed));
}

// Through pixels: each encode decodes the upload again, streaming, so on two cores
// the decode overlaps the encode and 36 MB (at 12 MP) less is held.
Result<Compressed> encode_lossy(Encoder& encoder, catalog::ImageFormat format, bool needs_rotation,
                                const CompressionSettings& settings) {
    return search_ladder(
        [&](int quality) -> Result<std::string> {
            // The image first: decoding can throw, and an option list is freed only by
            // the call it is handed to.
            const VImage image = encoder.upright(needs_rotation);
            auto* options = VImage::option()->set("Q", quality)->set("strip", true);
            if (format == catalog::ImageFormat::jpeg)
                return take_blob(image.jpegsave_buffer(options->set("optimize_coding", true)));
            return take_blob(image.webpsave_buffer(options->set("effort", 6)));
        },
        [](int) { return std::uint64_t{0}; }, encoder, settings);
}

struct GFreeDeleter {
    void operator()(void* memory) const { g_free(memory); }
};

// The decoded pixels as packed 8-bit RGBA, which libimagequant takes.
struct DecodedRgba {
    std::unique_ptr<std::uint8_t, GFreeDeleter> memory;
    RgbaPixels pixels;
};

DecodedRgba decode_rgba(VImage image) {
    image = image.colourspace(VIPS_INTERPRETATION_sRGB).cast(VIPS_FORMAT_UCHAR);
    if (!image.has_alpha()) image = image.bandjoin_const({255});
    std::size_t length = 0;
    DecodedRgba decoded;
    decoded.memory.reset(static_cast<std::uint8_t*>(image.write_to_memory(&length)));
    decoded.pixels = {{decoded.memory.get(), length}, image.width(), image.height()};
    return decoded;
}

// PNG: maximum lossless compression; then, without alpha, 256, 128, 64, 32 colours
// until one fits. Deflate at level 9 is most of the cost and runs on one core, so
// the colour counts are tried two at a time (the second is wasted work only when
// the first fits).
Result<Compressed> encode_png(Encoder& encoder, bool needs_rotation,
                              const CompressionSettings& settings) {
    Compressed best;
    VImage image = encoder.upright(needs_rotation);
    const bool has_alpha = image.has_alpha();
    best.bytes = take_blob(
        image.pngsave_buffer(VImage::option()->set("compression", 9)->set("strip", true)));
    if (best.bytes.size() <= settings.max_bytes || has_alpha) return best;

    const DecodedRgba decoded = decode_rgba(encoder.upright(needs_rotation));
    auto palette_encoder = PaletteEncoder::create(decoded.pixels);
    if (!palette_encoder) return std::unexpected(palette_encoder.error());
    const std::array<int, 4> colour_counts{256, 128, 64, 32};
    const std::size_t wave = std::thread::hardware_concurrency() > 1 ? 2 : 1;
    for (std::size_t first = 0; first < colour_counts.size(); first += wave) {
        if (encoder.past_deadline()) return fail(ErrorKind::invalid_input, k_too_slow);
        std::vector<std::future<Result<std::string>>> encodes;
        for (std::size_t i = first; i < std::min(first + wave, colour_counts.size()); ++i) {
            encodes.push_back(std::async(std::launch::async, [&palette_encoder, &colour_counts, i] {
                return palette_encoder->encode(colour_counts[i]);
            }));
        }
        for (std::size_t i = 0; i < encodes.size(); ++i) {
            auto encoded = encodes[i].get();
            if (!encoded) return std::unexpected(encoded.error());
            best.bytes = std::move(*encoded);
            best.quality = colour_counts[first + i];
            if (best.bytes.size() <= settings.max_bytes) return best;
        }
    }
    return best;
}

Result<std::optional<Compressed>> reencode(std::string_view upload, catalog::ImageFormat format,
                                           const CompressionSettings& settings) {
    Encoder encoder(upload, settings);
    if (format == catalog::ImageFormat::jpeg && count_jpeg_scans(upload) > k_max_jpeg_scans) {
        return fail(ErrorKind::invalid_input, "The image could not be decoded: it has more than " +
                                                  std::to_string(k_max_jpeg_scans) + " scans");
    }
    if (format == catalog::ImageFormat::jpeg) {
        auto requantised = requantise_jpeg(upload, encoder, settings);
        if (!requantised || *requantised) return requantised;
    }
    initialise_vips();
    const VImage header = encoder.header();
    if (auto ok = check_pixels(static_cast<std::uint64_t>(header.width()),
                               static_cast<std::uint64_t>(header.height()), settings);
        !ok)
        return std::unexpected(ok.error());
    if (vips_image_get_n_pages(header.get_image()) > 1) return std::nullopt;
    const bool needs_rotation = vips_image_get_orientation(header.get_image()) > 1;
    if (format == catalog::ImageFormat::png) return encode_png(encoder, needs_rotation, settings);
    auto compressed = encode_lossy(encoder, format, needs_rotation, settings);
    if (!compressed) return std::unexpected(compressed.error());
    return std::optional<Compressed>(std::move(*compressed));
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
    } catch (const vips::VError& error) {
        vips_error_clear();
        std::string reason = error.what();
        while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' '))
            reason.pop_back();
        std::replace(reason.begin(), reason.end(), '\n', ';');
        if (reason.find("killed") != std::string::npos)
            return fail(ErrorKind::invalid_input, k_too_slow);
        return fail(ErrorKind::invalid_input, "The image could not be decoded: " + reason);
    } catch (const std::bad_alloc&) {
        return fail(ErrorKind::invalid_input, "The image is too large to decode.");
    }
    if (!result) return result;
    if (*result && (*result)->bytes.size() >= upload.size()) return std::nullopt;
    return result;
}

}  // namespace gallery::imaging
