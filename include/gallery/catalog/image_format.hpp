#pragma once
// The image kinds an upload may be, told apart by extension and by magic bytes.

#include <optional>
#include <string>
#include <string_view>

namespace gallery::catalog {

enum class ImageFormat { jpeg, png, gif, webp, bmp };

// ".jpg" for "Photo.JPG"; "" when the name has no extension.
std::string lowercase_extension(std::string_view filename);

// nullopt unless the extension is one of .jpg .jpeg .png .gif .webp .bmp (lowercase).
std::optional<ImageFormat> format_for_extension(std::string_view extension);

// The format the leading bytes announce, or nullopt.
std::optional<ImageFormat> sniff_format(std::string_view bytes);

std::string_view content_type_of(ImageFormat format);
std::string_view format_name(ImageFormat format);  // "JPEG"

// Content-Type for a stored key by its extension ("application/octet-stream" otherwise).
std::string_view content_type_for_key(std::string_view key);

}  // namespace gallery::catalog
