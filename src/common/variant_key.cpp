#include "gallery/common/variant_key.hpp"

#include <algorithm>
#include <array>

namespace gallery {
namespace {

constexpr std::array k_formats{VariantFormat::jpeg, VariantFormat::webp};

}  // namespace

std::string_view variant_extension(VariantFormat format) {
    return format == VariantFormat::webp ? ".webp" : ".jpg";
}

std::string_view variant_content_type(VariantFormat format) {
    return format == VariantFormat::webp ? "image/webp" : "image/jpeg";
}

bool valid_variant_name(std::string_view name) {
    return !name.empty() && name.size() <= 32 && std::ranges::all_of(name, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

std::string variant_key(std::string_view name, std::string_view image_key, VariantFormat format) {
    std::string key;
    append_variant_key(key, name, image_key, format);
    return key;
}

void append_variant_key(std::string& out, std::string_view name, std::string_view image_key,
                        VariantFormat format) {
    const std::string_view suffix = variant_extension(format);
    out.reserve(out.size() + variant_prefix.size() + name.size() + 1 + image_key.size() +
                suffix.size());
    out.append(variant_prefix).append(name).append(1, '/').append(image_key).append(suffix);
}

std::optional<VariantOfImage> parse_variant_key(std::string_view key) {
    if (!key.starts_with(variant_prefix)) return std::nullopt;
    const auto format = std::ranges::find_if(
        k_formats, [&](VariantFormat f) { return key.ends_with(variant_extension(f)); });
    if (format == k_formats.end()) return std::nullopt;
    const std::size_t suffix = variant_extension(*format).size();
    const std::string_view rest =
        key.substr(variant_prefix.size(), key.size() - variant_prefix.size() - suffix);
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const VariantOfImage variant{rest.substr(0, slash), rest.substr(slash + 1), *format};
    if (!valid_variant_name(variant.name) || variant.image_key.empty() ||
        variant.image_key.starts_with(variant_prefix))
        return std::nullopt;
    return variant;
}

std::string_view image_key_of(std::string_view key) {
    const auto variant = parse_variant_key(key);
    return variant ? variant->image_key : key;
}

}  // namespace gallery
