#pragma once
// The one rule that names an image's variants (issue 41): a variant of the image
// stored at K is stored at variants/<name>/K.jpg. Any process knows an image's
// variant keys from its key alone, and no variant key is under the prefix of the
// images' keys (images/, the original's too), which the orphan sweep walks apart.

#include <optional>
#include <string>
#include <string_view>

namespace gallery {

inline constexpr std::string_view variant_prefix = "variants/";

// A variant name: 1 to 32 of a-z, 0-9, '-' and '_'.
bool valid_variant_name(std::string_view name);

// variants/<name>/<image_key>.jpg; `name` must be valid.
std::string variant_key(std::string_view name, std::string_view image_key);

struct VariantOfImage {
    std::string_view name;
    std::string_view image_key;
};

// The variant and image a key names, or nullopt for a key that is not a variant's
// (views into `key`). A variant of a variant is not a variant.
std::optional<VariantOfImage> parse_variant_key(std::string_view key);

// The key whose fate a key shares: a variant's image key, any other key itself (a view
// into `key`).
std::string_view image_key_of(std::string_view key);

}  // namespace gallery
