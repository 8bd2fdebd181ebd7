#include "imaging/plugin/png_palette.hpp"

#include <libimagequant.h>
#include <spng.h>

#include <algorithm>
#include <vector>

namespace gallery::imaging {
namespace {

// 64 rows of a 4000-pixel-wide image: libimagequant's float copy of a strip is ~4 MB.
constexpr int k_strip_pixels = 1 << 18;

struct LiqAttrDeleter {
    void operator()(liq_attr* attr) const { liq_attr_destroy(attr); }
};
struct LiqHistogramDeleter {
    void operator()(liq_histogram* histogram) const { liq_histogram_destroy(histogram); }
};
struct LiqImageDeleter {
    void operator()(liq_image* image) const { liq_image_destroy(image); }
};
struct LiqResultDeleter {
    void operator()(liq_result* result) const { liq_result_destroy(result); }
};
struct SpngDeleter {
    void operator()(spng_ctx* context) const { spng_ctx_free(context); }
};
using LiqImage = std::unique_ptr<liq_image, LiqImageDeleter>;

Error png_error(const std::string& step, int code) {
    return Error{ErrorKind::invalid_input, "png: " + step + ": " + spng_strerror(code)};
}

Error quantise_error(const std::string& step) {
    return Error{ErrorKind::invalid_input, "png: " + step + " failed"};
}

}  // namespace

struct PaletteEncoder::State {
    RgbaPixels pixels;
    int strip_rows = 1;
    std::unique_ptr<liq_attr, LiqAttrDeleter> attr;

    LiqImage strip(liq_attr* strip_attr, int first_row) const {
        const int rows = std::min(strip_rows, pixels.height - first_row);
        const auto offset = static_cast<std::size_t>(first_row) * pixels.width * 4;
        // libimagequant takes a non-const pointer but only reads the pixels.
        auto* start = const_cast<std::uint8_t*>(pixels.bytes.data() + offset);
        return LiqImage(liq_image_create_rgba(strip_attr, start, pixels.width, rows, 0));
    }
};

PaletteEncoder::PaletteEncoder(std::unique_ptr<State> state) : m_state(std::move(state)) {}
PaletteEncoder::PaletteEncoder(PaletteEncoder&&) noexcept = default;
PaletteEncoder::~PaletteEncoder() = default;

Result<PaletteEncoder> PaletteEncoder::create(const RgbaPixels& pixels) {
    auto state = std::make_unique<State>();
    state->pixels = pixels;
    state->strip_rows = std::max(1, k_strip_pixels / std::max(1, pixels.width));
    state->attr.reset(liq_attr_create());
    if (!state->attr) return std::unexpected(quantise_error("quantiser set-up"));
    // Speed 8 of 10. `build/tests/compress_bench photo-4mp.png` (scripts/bench's input):
    // default speed 4 took 4.8 s and 157-169 MB for 999,362 bytes; speed 8 takes
    // 2.85 s and 89 MB for 1,010,014 bytes (1% larger); speed 10 is no faster.
    liq_set_speed(state->attr.get(), 8);
    return PaletteEncoder(std::move(state));
}

Result<std::string> PaletteEncoder::encode(int colours) const {
    const State& state = *m_state;
    // Each call quantises with its own settings, so calls may run concurrently.
    std::unique_ptr<liq_attr, LiqAttrDeleter> attr(liq_attr_copy(state.attr.get()));
    if (!attr) return std::unexpected(quantise_error("quantiser set-up"));
    // A histogram is spent by quantising it (libimagequant frees its colour table).
    std::unique_ptr<liq_histogram, LiqHistogramDeleter> histogram(liq_histogram_create(attr.get()));
    if (!histogram) return std::unexpected(quantise_error("histogram set-up"));
    for (int row = 0; row < state.pixels.height; row += state.strip_rows) {
        LiqImage strip = state.strip(attr.get(), row);
        if (!strip || liq_histogram_add_image(histogram.get(), attr.get(), strip.get()) != LIQ_OK) {
            return std::unexpected(quantise_error("building the colour histogram"));
        }
    }
    liq_result* raw_result = nullptr;
    if (liq_set_max_colors(attr.get(), colours) != LIQ_OK ||
        liq_histogram_quantize(histogram.get(), attr.get(), &raw_result) != LIQ_OK) {
        return std::unexpected(
            quantise_error("quantising to " + std::to_string(colours) + " colours"));
    }
    std::unique_ptr<liq_result, LiqResultDeleter> result(raw_result);
    liq_set_dithering_level(result.get(), 0.0F);

    const auto width = static_cast<std::size_t>(state.pixels.width);
    std::vector<std::uint8_t> indexes(width * static_cast<std::size_t>(state.pixels.height));
    for (int row = 0; row < state.pixels.height; row += state.strip_rows) {
        LiqImage strip = state.strip(attr.get(), row);
        const std::size_t rows = std::min(state.strip_rows, state.pixels.height - row);
        std::uint8_t* out = indexes.data() + static_cast<std::size_t>(row) * width;
        if (!strip ||
            liq_write_remapped_image(result.get(), strip.get(), out, rows * width) != LIQ_OK) {
            return std::unexpected(quantise_error("remapping to the palette"));
        }
    }
    const liq_palette* palette = liq_get_palette(result.get());

    std::unique_ptr<spng_ctx, SpngDeleter> context(spng_ctx_new(SPNG_CTX_ENCODER));
    if (!context) return std::unexpected(quantise_error("creating the PNG encoder"));
    spng_set_option(context.get(), SPNG_ENCODE_TO_BUFFER, 1);
    spng_set_option(context.get(), SPNG_IMG_COMPRESSION_LEVEL, 9);
    spng_set_option(context.get(), SPNG_FILTER_CHOICE, SPNG_DISABLE_FILTERING);
    spng_ihdr header{};
    header.width = static_cast<std::uint32_t>(state.pixels.width);
    header.height = static_cast<std::uint32_t>(state.pixels.height);
    header.bit_depth = 8;
    header.color_type = SPNG_COLOR_TYPE_INDEXED;
    if (int code = spng_set_ihdr(context.get(), &header))
        return std::unexpected(png_error("header", code));
    spng_plte plte{};
    plte.n_entries = palette->count;
    for (unsigned i = 0; i < palette->count; ++i) {
        plte.entries[i] = {palette->entries[i].r, palette->entries[i].g, palette->entries[i].b, 0};
    }
    if (int code = spng_set_plte(context.get(), &plte))
        return std::unexpected(png_error("palette", code));
    if (int code = spng_encode_image(context.get(), indexes.data(), indexes.size(), SPNG_FMT_PNG,
                                     SPNG_ENCODE_FINALIZE)) {
        return std::unexpected(png_error("encode", code));
    }
    int code = 0;
    std::size_t length = 0;
    std::unique_ptr<void, decltype(&std::free)> buffer(
        spng_get_png_buffer(context.get(), &length, &code), &std::free);
    if (!buffer) return std::unexpected(png_error("encode", code));
    return std::string(static_cast<const char*>(buffer.get()), length);
}

}  // namespace gallery::imaging
