#include "imaging/image_header.hpp"

namespace gallery::imaging {
namespace {

std::uint64_t byte_at(std::string_view bytes, std::size_t at) {
    return static_cast<unsigned char>(bytes[at]);
}

std::uint64_t big_endian(std::string_view bytes, std::size_t at, std::size_t length) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < length; ++i) value = (value << 8) | byte_at(bytes, at + i);
    return value;
}

std::uint64_t little_endian(std::string_view bytes, std::size_t at, std::size_t length) {
    std::uint64_t value = 0;
    for (std::size_t i = length; i > 0; --i) value = (value << 8) | byte_at(bytes, at + i - 1);
    return value;
}

// The first start-of-frame segment (SOF0..SOF15 but DHT, JPG and DAC) walking the
// markers from SOI; its height is at +5 and its width at +7.
std::optional<Dimensions> jpeg_pixels(std::string_view bytes) {
    std::size_t at = 2;
    while (at + 9 <= bytes.size()) {
        if (byte_at(bytes, at) != 0xFF) return std::nullopt;
        const std::uint64_t marker = byte_at(bytes, at + 1);
        if (marker == 0xFF) {  // fill byte
            ++at;
            continue;
        }
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
            at += 2;
            continue;
        }
        const bool frame =
            marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (frame) return Dimensions{big_endian(bytes, at + 7, 2), big_endian(bytes, at + 5, 2)};
        if (marker == 0xDA || marker == 0xD9) return std::nullopt;  // scan before a frame
        at += 2 + big_endian(bytes, at + 2, 2);
    }
    return std::nullopt;
}

// IHDR is the first chunk: width and height at 16 and 20.
std::optional<Dimensions> png_pixels(std::string_view bytes) {
    if (bytes.size() < 24 || bytes.substr(12, 4) != "IHDR") return std::nullopt;
    return Dimensions{big_endian(bytes, 16, 4), big_endian(bytes, 20, 4)};
}

// RIFF....WEBP, then VP8 (lossy), VP8L (lossless) or VP8X (extended, the canvas).
std::optional<Dimensions> webp_pixels(std::string_view bytes) {
    if (bytes.size() < 30 || bytes.substr(0, 4) != "RIFF" || bytes.substr(8, 4) != "WEBP")
        return std::nullopt;
    const std::string_view chunk = bytes.substr(12, 4);
    if (chunk == "VP8 ") {
        return Dimensions{little_endian(bytes, 26, 2) & 0x3FFF,
                          little_endian(bytes, 28, 2) & 0x3FFF};
    }
    if (chunk == "VP8L") {
        const std::uint64_t bits = little_endian(bytes, 21, 4);
        return Dimensions{(bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1};
    }
    if (chunk == "VP8X") {
        return Dimensions{little_endian(bytes, 24, 3) + 1, little_endian(bytes, 27, 3) + 1};
    }
    return std::nullopt;
}

}  // namespace

bool png_rows_streamable(std::string_view bytes) {
    constexpr std::size_t k_signature = 8;
    constexpr std::size_t k_interlace_in_ihdr = 12;
    bool header_seen = false;
    std::size_t at = k_signature;
    while (at + 8 <= bytes.size()) {
        const std::uint64_t length = big_endian(bytes, at, 4);
        const std::string_view type = bytes.substr(at + 4, 4);
        if (type == "IHDR") {
            if (at + 8 + k_interlace_in_ihdr >= bytes.size() ||
                byte_at(bytes, at + 8 + k_interlace_in_ihdr) != 0)
                return false;
            header_seen = true;
        } else if (type == "IDAT") {
            return header_seen;
        } else if (type == "iCCP" || type == "eXIf") {
            return false;
        }
        at += 12 + length;  // length, type, data, CRC; a length past the end ends the walk
    }
    return false;
}

std::optional<Dimensions> header_dimensions(std::string_view bytes, catalog::ImageFormat format) {
    switch (format) {
        case catalog::ImageFormat::jpeg:
            return jpeg_pixels(bytes);
        case catalog::ImageFormat::png:
            return png_pixels(bytes);
        case catalog::ImageFormat::webp:
            return webp_pixels(bytes);
        case catalog::ImageFormat::gif:
        case catalog::ImageFormat::bmp:
            return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace gallery::imaging
