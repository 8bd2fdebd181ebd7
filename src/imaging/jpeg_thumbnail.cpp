#include "imaging/jpeg_thumbnail.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "imaging/area_taps.hpp"
#include "imaging/jpeg_exif.hpp"
#include "imaging/jpeg_io.hpp"
#include "imaging/webp_encode.hpp"

namespace gallery::imaging {
namespace {

struct Decoder {
    jpeg_decompress_struct source{};
    ErrorManager errors;
    ReadProgress progress;
    bool created = false;
    ~Decoder() {
        if (created) jpeg_destroy_decompress(&source);
    }
};

struct Encoder {
    jpeg_compress_struct target{};
    ErrorManager errors;
    bool created = false;
    ~Encoder() {
        if (!created) return;
        target.dest = nullptr;  // ours, not libjpeg's to free
        jpeg_destroy_compress(&target);
    }
};

// Each returns false with the errors' message set when libjpeg gave up (see
// jpeg_io.hpp: no object with a destructor is created after setjmp).
bool read_header(Decoder& decoder, std::string_view jpeg) {
    install(decoder.errors);
    decoder.source.err = &decoder.errors.base;
    if (setjmp(decoder.errors.jump)) return false;
    jpeg_create_decompress(&decoder.source);
    decoder.created = true;
    decoder.progress.base.progress_monitor = on_progress;
    decoder.source.progress = &decoder.progress.base;
    jpeg_mem_src(&decoder.source, reinterpret_cast<const unsigned char*>(jpeg.data()),
                 static_cast<unsigned long>(jpeg.size()));
    jpeg_save_markers(&decoder.source, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&decoder.source, TRUE);
    return true;
}

bool start_decoding(Decoder& decoder) {
    if (setjmp(decoder.errors.jump)) return false;
    jpeg_start_decompress(&decoder.source);
    return true;
}

// Decodes every row into `pixels`, sized by the caller for the output dimensions.
bool decode_rows(Decoder& decoder, std::vector<JSAMPLE>& pixels) {
    if (setjmp(decoder.errors.jump)) return false;
    jpeg_decompress_struct& source = decoder.source;
    const std::size_t stride = std::size_t{source.output_width} * source.output_components;
    while (source.output_scanline < source.output_height) {
        JSAMPROW row = pixels.data() + std::size_t{source.output_scanline} * stride;
        jpeg_read_scanlines(&source, &row, 1);
    }
    jpeg_finish_decompress(&source);
    return true;
}

struct Pixels {
    std::vector<JSAMPLE> bytes;
    int width = 0;
    int height = 0;
    int components = 0;
    JSAMPLE at(int x, int y, int c) const {
        return bytes[(static_cast<std::size_t>(y) * width + x) * components + c];
    }
};

// `pixels`: height rows of width pixels of `components` (1 or 3) bytes.
bool encode(Encoder& encoder, StringDestination& destination, std::span<const std::uint8_t> pixels,
            int width, int height, int components, int quality) {
    install(encoder.errors);
    encoder.target.err = &encoder.errors.base;
    if (setjmp(encoder.errors.jump)) return false;
    jpeg_create_compress(&encoder.target);
    encoder.created = true;
    attach(encoder.target, destination);
    encoder.target.image_width = static_cast<JDIMENSION>(width);
    encoder.target.image_height = static_cast<JDIMENSION>(height);
    encoder.target.input_components = components;
    encoder.target.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&encoder.target);
    jpeg_set_quality(&encoder.target, quality, TRUE);
    encoder.target.optimize_coding = TRUE;
    jpeg_start_compress(&encoder.target, TRUE);
    const std::size_t stride = static_cast<std::size_t>(width) * components;
    while (encoder.target.next_scanline < encoder.target.image_height) {
        auto* row = const_cast<JSAMPLE*>(pixels.data()) +
                    std::size_t{encoder.target.next_scanline} * stride;
        jpeg_write_scanlines(&encoder.target, &row, 1);
    }
    jpeg_finish_compress(&encoder.target);
    return true;
}

Pixels shrink(const Pixels& in, int width, int height) {
    if (in.width == width && in.height == height) return in;
    const std::vector<Tap> columns = area_taps(in.width, width);
    const std::vector<Tap> rows = area_taps(in.height, height);
    const int c = in.components;
    // Across first (every input row), then down.
    std::vector<float> across(static_cast<std::size_t>(width) * in.height * c);
    for (int y = 0; y < in.height; ++y) {
        for (int x = 0; x < width; ++x) {
            const Tap& tap = columns[static_cast<std::size_t>(x)];
            for (int k = 0; k < c; ++k) {
                float sum = 0;
                for (std::size_t i = 0; i < tap.weights.size(); ++i)
                    sum += tap.weights[i] * in.at(tap.first + static_cast<int>(i), y, k);
                across[(static_cast<std::size_t>(y) * width + x) * c + k] = sum;
            }
        }
    }
    Pixels out{std::vector<JSAMPLE>(static_cast<std::size_t>(width) * height * c), width, height,
               c};
    for (int y = 0; y < height; ++y) {
        const Tap& tap = rows[static_cast<std::size_t>(y)];
        for (int x = 0; x < width; ++x) {
            for (int k = 0; k < c; ++k) {
                float sum = 0;
                for (std::size_t i = 0; i < tap.weights.size(); ++i)
                    sum += tap.weights[i] *
                           across[((tap.first + i) * width + static_cast<std::size_t>(x)) * c + k];
                out.bytes[(static_cast<std::size_t>(y) * width + x) * c + k] =
                    static_cast<JSAMPLE>(std::clamp(std::lround(sum), 0L, 255L));
            }
        }
    }
    return out;
}

bool swaps_sides(int orientation) {
    return orientation >= 5 && orientation <= 8;
}

// The image as EXIF orientation 1..8 says it is displayed: display pixel (x, y) is
// stored pixel (sx, sy).
Pixels upright(const Pixels& stored, int orientation) {
    if (orientation < 2 || orientation > 8) return stored;
    const int w = stored.width;
    const int h = stored.height;
    Pixels out{std::vector<JSAMPLE>(stored.bytes.size()), swaps_sides(orientation) ? h : w,
               swaps_sides(orientation) ? w : h, stored.components};
    for (int y = 0; y < out.height; ++y) {
        for (int x = 0; x < out.width; ++x) {
            int sx = x;
            int sy = y;
            switch (orientation) {
                case 2:
                    sx = w - 1 - x;
                    break;
                case 3:
                    sx = w - 1 - x;
                    sy = h - 1 - y;
                    break;
                case 4:
                    sy = h - 1 - y;
                    break;
                case 5:
                    sx = y;
                    sy = x;
                    break;
                case 6:
                    sx = y;
                    sy = h - 1 - x;
                    break;
                case 7:
                    sx = w - 1 - y;
                    sy = h - 1 - x;
                    break;
                case 8:
                    sx = w - 1 - y;
                    sy = x;
                    break;
                default:
                    break;
            }
            for (int k = 0; k < out.components; ++k)
                out.bytes[(static_cast<std::size_t>(y) * out.width + x) * out.components + k] =
                    stored.at(sx, sy, k);
        }
    }
    return out;
}

Error undecodable(const ErrorManager& errors) {
    return Error{ErrorKind::invalid_input,
                 "The image could not be decoded: " + libjpeg_message(errors)};
}

}  // namespace

Result<std::string> encode_thumbnail(std::span<const std::uint8_t> pixels, int width, int height,
                                     int components, int quality, VariantFormat format) {
    if (format == VariantFormat::webp)
        return encode_webp(pixels, width, height, components, quality);
    std::string bytes;
    auto destination = std::make_unique<StringDestination>();
    destination->out = &bytes;
    Encoder encoder;
    if (!encode(encoder, *destination, pixels, width, height, components, quality)) {
        return fail(ErrorKind::invalid_input,
                    "The thumbnail could not be encoded: " + libjpeg_message(encoder.errors));
    }
    return bytes;
}

double fit_scale(double width, double height, double box_width, double box_height) {
    return std::max({width / box_width, height / box_height, 1.0});
}

unsigned jpeg_decode_denominator(double scale) {
    unsigned denominator = 1;
    while (denominator < 8 && denominator * 2 <= scale) denominator *= 2;
    return denominator;
}

Result<std::optional<std::string>> jpeg_thumbnail(const ThumbnailJob& job) {
    auto decoder = std::make_unique<Decoder>();
    decoder->progress.deadline = job.deadline;
    if (!read_header(*decoder, job.source)) return std::unexpected(undecodable(decoder->errors));
    jpeg_decompress_struct& source = decoder->source;
    if (source.jpeg_color_space == JCS_CMYK || source.jpeg_color_space == JCS_YCCK)
        return std::nullopt;
    if (job.max_pixels != 0) {
        if (auto ok = check_pixels(source.image_width, source.image_height, job.max_pixels); !ok)
            return std::unexpected(ok.error());
    }
    int orientation = 1;
    for (jpeg_saved_marker_ptr marker = source.marker_list; marker; marker = marker->next) {
        orientation = exif_orientation({marker->data, marker->data_length});
        if (orientation != 1) break;
    }
    // The box applies to the upright image; the work happens on the stored one.
    const bool swapped = swaps_sides(orientation);
    const double stored_box_width = swapped ? job.height : job.width;
    const double stored_box_height = swapped ? job.width : job.height;
    const double scale =
        fit_scale(source.image_width, source.image_height, stored_box_width, stored_box_height);
    const int width = std::max(1, static_cast<int>(std::lround(source.image_width / scale)));
    const int height = std::max(1, static_cast<int>(std::lround(source.image_height / scale)));
    source.scale_num = 1;
    source.scale_denom = jpeg_decode_denominator(scale);
    source.out_color_space = source.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
    source.dct_method = JDCT_ISLOW;
    jpeg_calc_output_dimensions(&source);
    Pixels decoded{{},
                   static_cast<int>(source.output_width),
                   static_cast<int>(source.output_height),
                   source.output_components};
    decoded.bytes.resize(std::size_t{source.output_width} * source.output_height *
                         static_cast<std::size_t>(source.output_components));
    if (!start_decoding(*decoder) || !decode_rows(*decoder, decoded.bytes))
        return std::unexpected(undecodable(decoder->errors));
    decoder.reset();  // libjpeg's buffers go before the small image is made
    const Pixels small =
        upright(shrink(decoded, std::min(width, decoded.width), std::min(height, decoded.height)),
                orientation);
    auto encoded = encode_thumbnail(small.bytes, small.width, small.height, small.components,
                                    job.quality, job.format);
    if (!encoded) return std::unexpected(encoded.error());
    return std::optional<std::string>(std::move(*encoded));
}

}  // namespace gallery::imaging
