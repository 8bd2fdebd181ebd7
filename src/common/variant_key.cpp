#include "gallery/common/variant_key.hpp"

#include <algorithm>

namespace gallery {
namespace {

constexpr std::string_view k_suffix = ".jpg";

}  // namespace

bool valid_variant_name(std::string_view name) {
    return !name.empty() && name.size() <= 32 && std::ranges::all_of(name, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

std::string variant_key(std::string_view name, std::string_view image_key) {
    std::string key;
    key.reserve(variant_prefix.size() + name.size() + 1 + image_key.size() + k_suffix.size());
    key.append(variant_prefix).append(name).append(1, '/').append(image_key).append(k_suffix);
    return key;
}

std::optional<VariantOfImage> parse_variant_key(std::string_view key) {
    if (!key.starts_with(variant_prefix) || !key.ends_with(k_suffix)) return std::nullopt;
    const std::string_view rest =
        key.substr(variant_prefix.size(), key.size() - variant_prefix.size() - k_suffix.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const VariantOfImage variant{rest.substr(0, slash), rest.substr(slash + 1)};
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
