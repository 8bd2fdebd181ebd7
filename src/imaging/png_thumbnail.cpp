#include "imaging/png_thumbnail.hpp"

#include <spng.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "imaging/area_taps.hpp"
#include "imaging/image_header.hpp"
#include "imaging/jpeg_thumbnail.hpp"

namespace gallery::imaging {
namespace {

struct ContextDeleter {
    void operator()(spng_ctx* context) const { spng_ctx_free(context); }
};
using Context = std::unique_ptr<spng_ctx, ContextDeleter>;

// Ancillary chunks (text, unknown ones) are kept by libspng until the image ends:
// bound them, as a hostile PNG can carry many.
constexpr std::size_t k_max_chunk_bytes = 16u << 20;
constexpr std::size_t k_max_chunk_cache_bytes = 64u << 20;
constexpr int k_rows_between_deadline_checks = 64;

Error undecodable(int code) {
    return Error{ErrorKind::invalid_input,
                 std::string("The image could not be decoded: ") + spng_strerror(code)};
}

// For each input row, the output rows it falls in and its share of each (the
// vertical taps turned around, so that rows can be added as they are decoded).
struct RowShare {
    int out_row = 0;
    float weight = 0;
};

std::vector<std::vector<RowShare>> shares_by_input_row(int in, int out) {
    std::vector<std::vector<RowShare>> shares(static_cast<std::size_t>(in));
    const std::vector<Tap> taps = area_taps(in, out);
    for (int o = 0; o < out; ++o) {
        const Tap& tap = taps[static_cast<std::size_t>(o)];
        for (std::size_t i = 0; i < tap.weights.size(); ++i)
            shares[static_cast<std::size_t>(tap.first) + i].push_back({o, tap.weights[i]});
    }
    return shares;
}

}  // namespace

Result<std::optional<std::string>> png_thumbnail(const ThumbnailJob& job) {
    const Context context(spng_ctx_new(0));
    if (!context) return fail(ErrorKind::io, "png thumbnail: out of memory");
    spng_ctx* png = context.get();
    spng_set_chunk_limits(png, k_max_chunk_bytes, k_max_chunk_cache_bytes);
    if (int code = spng_set_png_buffer(png, job.source.data(), job.source.size()))
        return std::unexpected(undecodable(code));
    spng_ihdr header{};
    if (int code = spng_get_ihdr(png, &header)) return std::unexpected(undecodable(code));
    if (job.max_pixels != 0) {
        if (auto ok = check_pixels(header.width, header.height, job.max_pixels); !ok)
            return std::unexpected(ok.error());
    }
    if (!png_rows_streamable(job.source)) return std::nullopt;

    const auto in_width = static_cast<int>(header.width);
    const auto in_height = static_cast<int>(header.height);
    const double scale = fit_scale(in_width, in_height, job.width, job.height);
    const int width = std::max(1, static_cast<int>(std::lround(in_width / scale)));
    const int height = std::max(1, static_cast<int>(std::lround(in_height / scale)));
    const std::vector<Tap> columns = area_taps(in_width, width);
    const std::vector<std::vector<RowShare>> rows = shares_by_input_row(in_height, height);

    if (int code = spng_decode_image(png, nullptr, 0, SPNG_FMT_RGBA8,
                                     SPNG_DECODE_TRNS | SPNG_DECODE_PROGRESSIVE))
        return std::unexpected(undecodable(code));
    // Grey stays one band (libspng gives it as RGBA with R = G = B).
    const std::size_t bands = header.color_type == SPNG_COLOR_TYPE_GRAYSCALE ||
                                      header.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA
                                  ? 1
                                  : 3;
    std::vector<std::uint8_t> row(static_cast<std::size_t>(in_width) * 4);
    std::vector<float> flat(static_cast<std::size_t>(in_width) * bands);
    std::vector<float> across(static_cast<std::size_t>(width) * bands);
    std::vector<float> small(static_cast<std::size_t>(width) * height * bands);
    for (int y = 0; y < in_height; ++y) {
        if (y % k_rows_between_deadline_checks == 0 &&
            std::chrono::steady_clock::now() > job.deadline)
            return fail(ErrorKind::invalid_input, k_too_slow);
        const int code = spng_decode_row(png, row.data(), row.size());
        if (code != 0 && !(code == SPNG_EOI && y == in_height - 1))
            return std::unexpected(undecodable(code));
        // Flattened on white first: the same as averaging with premultiplied alpha and
        // flattening after, as libvips does.
        for (std::size_t x = 0; x < static_cast<std::size_t>(in_width); ++x) {
            const float alpha = static_cast<float>(row[x * 4 + 3]) / 255.0f;
            for (std::size_t k = 0; k < bands; ++k)
                flat[x * bands + k] =
                    static_cast<float>(row[x * 4 + k]) * alpha + 255.0f * (1 - alpha);
        }
        // Across once, then into each output row the input row falls in (two where it
        // straddles their boundary).
        for (std::size_t x = 0; x < static_cast<std::size_t>(width); ++x) {
            const Tap& tap = columns[x];
            for (std::size_t k = 0; k < bands; ++k) {
                float sum = 0;
                for (std::size_t i = 0; i < tap.weights.size(); ++i)
                    sum += tap.weights[i] *
                           flat[(static_cast<std::size_t>(tap.first) + i) * bands + k];
                across[x * bands + k] = sum;
            }
        }
        for (const RowShare& share : rows[static_cast<std::size_t>(y)]) {
            float* out = &small[static_cast<std::size_t>(share.out_row) * width * bands];
            for (std::size_t i = 0; i < across.size(); ++i) out[i] += share.weight * across[i];
        }
    }
    std::vector<std::uint8_t> bytes(small.size());
    std::ranges::transform(small, bytes.begin(), [](float value) {
        return static_cast<std::uint8_t>(std::clamp(std::lround(value), 0L, 255L));
    });
    auto encoded =
        encode_thumbnail(bytes, width, height, static_cast<int>(bands), job.quality, job.format);
    if (!encoded) return std::unexpected(encoded.error());
    return std::optional<std::string>(std::move(*encoded));
}

}  // namespace gallery::imaging
