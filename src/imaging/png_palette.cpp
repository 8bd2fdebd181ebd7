#include "imaging/png_palette.hpp"

#include <libimagequant.h>
#include <spng.h>

#include <memory>
#include <vector>

namespace gallery::imaging {
namespace {

struct LiqAttrDeleter {
    void operator()(liq_attr* attr) const { liq_attr_destroy(attr); }
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

Error png_error(const std::string& step, int code) {
    return Error{ErrorKind::invalid_input, "png: " + step + ": " + spng_strerror(code)};
}

}  // namespace

Result<std::string> encode_palette_png(const RgbaPixels& pixels, int colours) {
    std::unique_ptr<liq_attr, LiqAttrDeleter> attr(liq_attr_create());
    if (!attr || liq_set_max_colors(attr.get(), colours) != LIQ_OK) {
        return fail(ErrorKind::invalid_input,
                    "png: cannot quantise to " + std::to_string(colours) + " colours");
    }
    std::unique_ptr<liq_image, LiqImageDeleter> image(
        liq_image_create_rgba(attr.get(), pixels.bytes.data(), pixels.width, pixels.height, 0));
    if (!image) return fail(ErrorKind::invalid_input, "png: the image cannot be quantised");
    liq_result* raw_result = nullptr;
    if (liq_image_quantize(image.get(), attr.get(), &raw_result) != LIQ_OK) {
        return fail(ErrorKind::invalid_input, "png: quantisation failed");
    }
    std::unique_ptr<liq_result, LiqResultDeleter> result(raw_result);
    liq_set_dithering_level(result.get(), 1.0F);

    const std::size_t pixel_count =
        static_cast<std::size_t>(pixels.width) * static_cast<std::size_t>(pixels.height);
    std::vector<std::uint8_t> indexes(pixel_count);
    if (liq_write_remapped_image(result.get(), image.get(), indexes.data(), indexes.size()) !=
        LIQ_OK) {
        return fail(ErrorKind::invalid_input, "png: remapping to the palette failed");
    }
    const liq_palette* palette = liq_get_palette(result.get());

    std::unique_ptr<spng_ctx, SpngDeleter> context(spng_ctx_new(SPNG_CTX_ENCODER));
    if (!context) return fail(ErrorKind::invalid_input, "png: cannot create an encoder");
    spng_set_option(context.get(), SPNG_ENCODE_TO_BUFFER, 1);
    spng_set_option(context.get(), SPNG_IMG_COMPRESSION_LEVEL, 9);
    spng_ihdr header{};
    header.width = static_cast<std::uint32_t>(pixels.width);
    header.height = static_cast<std::uint32_t>(pixels.height);
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
