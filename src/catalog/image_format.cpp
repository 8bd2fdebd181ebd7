#include "gallery/catalog/image_format.hpp"
#include "gallery/common/text.hpp"

#include <algorithm>
#include <cctype>

namespace gallery::catalog {

std::string lowercase_extension(std::string_view filename) {
    const std::size_t dot = filename.rfind('.');
    const std::size_t slash = filename.find_last_of("/\\");
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
        return "";
    return to_lower(filename.substr(dot));
}

std::optional<ImageFormat> format_for_extension(std::string_view extension) {
    if (extension == ".jpg" || extension == ".jpeg") return ImageFormat::jpeg;
    if (extension == ".png") return ImageFormat::png;
    if (extension == ".gif") return ImageFormat::gif;
    if (extension == ".webp") return ImageFormat::webp;
    if (extension == ".bmp") return ImageFormat::bmp;
    return std::nullopt;
}

std::optional<ImageFormat> sniff_format(std::string_view bytes) {
    if (bytes.starts_with("\xFF\xD8\xFF")) return ImageFormat::jpeg;
    if (bytes.starts_with("\x89PNG\r\n\x1A\n")) return ImageFormat::png;
    if (bytes.starts_with("GIF87a") || bytes.starts_with("GIF89a")) return ImageFormat::gif;
    if (bytes.size() >= 12 && bytes.starts_with("RIFF") && bytes.substr(8, 4) == "WEBP")
        return ImageFormat::webp;
    if (bytes.size() >= 26 && bytes.starts_with("BM")) return ImageFormat::bmp;
    return std::nullopt;
}

std::string_view content_type_of(ImageFormat format) {
    switch (format) {
        case ImageFormat::jpeg:
            return "image/jpeg";
        case ImageFormat::png:
            return "image/png";
        case ImageFormat::gif:
            return "image/gif";
        case ImageFormat::webp:
            return "image/webp";
        case ImageFormat::bmp:
            return "image/bmp";
    }
    return "application/octet-stream";
}

std::string_view format_name(ImageFormat format) {
    switch (format) {
        case ImageFormat::jpeg:
            return "JPEG";
        case ImageFormat::png:
            return "PNG";
        case ImageFormat::gif:
            return "GIF";
        case ImageFormat::webp:
            return "WebP";
        case ImageFormat::bmp:
            return "BMP";
    }
    return "unknown";
}

std::string_view content_type_for_key(std::string_view key) {
    const auto format = format_for_extension(lowercase_extension(key));
    return format ? content_type_of(*format) : "application/octet-stream";
}

}  // namespace gallery::catalog
