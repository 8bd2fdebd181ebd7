#pragma once
// The one rule that names an image's variants (issue 41): a variant of the image
// stored at K is stored at variants/<name>/K.jpg (K.webp with variant_format = webp).
// Any process knows an image's variant keys from its key and the configuration alone,
// and no variant key is under the prefix of the images' keys (images/, the
// original's too), which the orphan sweep walks apart.

#include <optional>
#include <string>
#include <string_view>

namespace gallery {

inline constexpr std::string_view variant_prefix = "variants/";

// How variants are encoded (the variant_format setting); the key's extension says it.
enum class VariantFormat { jpeg, webp };

// ".jpg" or ".webp".
std::string_view variant_extension(VariantFormat format);
// "image/jpeg" or "image/webp".
std::string_view variant_content_type(VariantFormat format);

// A variant name: 1 to 32 of a-z, 0-9, '-' and '_'.
bool valid_variant_name(std::string_view name);

// variants/<name>/<image_key><variant_extension(format)>; `name` must be valid.
std::string variant_key(std::string_view name, std::string_view image_key, VariantFormat format);
// The same key appended to `out` (a list answer writes one per image into kept buffers).
void append_variant_key(std::string& out, std::string_view name, std::string_view image_key,
                        VariantFormat format);

struct VariantOfImage {
    std::string_view name;
    std::string_view image_key;
    VariantFormat format = VariantFormat::jpeg;
};

// The variant and image a key names, in either format, or nullopt for a key that is
// not a variant's (views into `key`). A variant of a variant is not a variant.
std::optional<VariantOfImage> parse_variant_key(std::string_view key);

// The key whose fate a key shares: a variant's image key, any other key itself (a view
// into `key`).
std::string_view image_key_of(std::string_view key);

}  // namespace gallery
