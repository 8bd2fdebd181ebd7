// The libvips plugin (see pixel_codec.hpp): re-encoding through pixels.
#include "imaging/plugin/pixel_codec.hpp"

#include <vips/vips8>

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "imaging/plugin/png_palette.hpp"

namespace gallery::imaging {
namespace {

using vips::VImage;

std::atomic<LogWarning> g_warn{nullptr};

// libvips' warnings (a corrupt tile, a truncated file) go to the binary's log, with
// the request id, instead of raw to stderr.
void log_vips_message(const gchar*, GLogLevelFlags, const gchar* message, gpointer) {
    if (const LogWarning warn = g_warn.load())
        warn(std::string("libvips: ") + (message ? message : ""));
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
void on_eval(VipsImage* image, VipsProgress*, const SteadyTime* deadline) {
    if (std::chrono::steady_clock::now() > *deadline) vips_image_set_kill(image, TRUE);
}

void bound_time(VImage& image, const SteadyTime* deadline) {
    VipsImage* raw = image.get_image();
    g_signal_connect(raw, "eval", G_CALLBACK(on_eval), const_cast<SteadyTime*>(deadline));
    vips_image_set_progress(raw, TRUE);
}

class Encoder {
  public:
    explicit Encoder(const PixelJob& job) : m_upload(job.upload), m_deadline(job.deadline) {}

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
        [](int) { return std::uint64_t{0}; }, encoder.deadline(), settings);
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

Result<std::optional<Compressed>> reencode(const PixelJob& job) {
    initialise_vips();
    Encoder encoder(job);
    const VImage header = encoder.header();
    if (auto ok = check_pixels(static_cast<std::uint64_t>(header.width()),
                               static_cast<std::uint64_t>(header.height()), job.settings);
        !ok)
        return std::unexpected(ok.error());
    if (vips_image_get_n_pages(header.get_image()) > 1) return std::nullopt;
    const bool needs_rotation = vips_image_get_orientation(header.get_image()) > 1;
    if (job.format == catalog::ImageFormat::png)
        return encode_png(encoder, needs_rotation, job.settings);
    auto compressed = encode_lossy(encoder, job.format, needs_rotation, job.settings);
    if (!compressed) return std::unexpected(compressed.error());
    return std::optional<Compressed>(std::move(*compressed));
}

// libvips' thumbnail: a JPEG is decoded already shrunk (libjpeg's DCT scaling, 1/2
// to 1/8) and a WebP at the scale asked; other formats are decoded whole, then
// shrunk. Colour is converted to sRGB and orientation applied as it goes.
Result<std::string> thumbnail(const ThumbnailJob& job) {
    initialise_vips();
    const VImage header = VImage::new_from_buffer(job.source.data(), job.source.size(), "");
    CompressionSettings limits;
    limits.max_pixels = job.max_pixels;
    if (auto ok = check_pixels(static_cast<std::uint64_t>(header.width()),
                               static_cast<std::uint64_t>(header.height()), limits);
        !ok)
        return std::unexpected(ok.error());
    // A blob over the caller's bytes, without a copy (no free function).
    const std::unique_ptr<VipsBlob, BlobDeleter> source(
        vips_blob_new(nullptr, job.source.data(), job.source.size()));
    VImage image = VImage::thumbnail_buffer(source.get(), job.width,
                                            VImage::option()
                                                ->set("height", job.height)
                                                ->set("size", VIPS_SIZE_DOWN)
                                                ->set("fail_on", VIPS_FAIL_ON_TRUNCATED));
    bound_time(image, &job.deadline);
    if (image.has_alpha())
        image = image.flatten(VImage::option()->set("background", std::vector<double>{255.0}));
    if (image.interpretation() != VIPS_INTERPRETATION_sRGB &&
        image.interpretation() != VIPS_INTERPRETATION_B_W)
        image = image.colourspace(VIPS_INTERPRETATION_sRGB);
    image = image.cast(VIPS_FORMAT_UCHAR);
    if (job.format == VariantFormat::webp)
        return take_blob(
            image.webpsave_buffer(VImage::option()->set("Q", job.quality)->set("strip", true)));
    return take_blob(image.jpegsave_buffer(
        VImage::option()->set("Q", job.quality)->set("strip", true)->set("optimize_coding", true)));
}

// Runs a plugin entry point, turning what libvips throws into a sentence.
template <typename Value>
Result<Value> caught(LogWarning warn, const std::function<Result<Value>()>& work) {
    g_warn.store(warn);
    try {
        return work();
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
    } catch (const std::exception& error) {
        return fail(ErrorKind::io, std::string("re-encoding: ") + error.what());
    }
}

Result<std::optional<Compressed>> reencode_caught(const PixelJob& job, LogWarning warn) {
    return caught<std::optional<Compressed>>(warn, [&] { return reencode(job); });
}

Result<std::string> thumbnail_caught(const ThumbnailJob& job, LogWarning warn) {
    return caught<std::string>(warn, [&] { return thumbnail(job); });
}

constexpr PixelCodec k_codec{&reencode_caught, &thumbnail_caught};

}  // namespace
}  // namespace gallery::imaging

extern "C" __attribute__((visibility("default"))) const gallery::imaging::PixelCodec*
gallery_pixel_codec() {
    return &gallery::imaging::k_codec;
}
