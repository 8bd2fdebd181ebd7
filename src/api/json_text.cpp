#include "api/json_text.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "gallery/common/text.hpp"
#include "gallery/common/time.hpp"

namespace gallery::api::json_text {
namespace {

template <typename Integer>
void append_integer(std::string& out, Integer value) {
    char digits[24];
    const auto end = std::to_chars(std::begin(digits), std::end(digits), value).ptr;
    out.append(digits, end);
}

void append_key(std::string& out, std::string_view key) {
    out += '"';
    out += key;
    out += "\":";
}

}  // namespace

void append_string(std::string& out, std::string_view text) {
    if (!is_valid_utf8(text)) {
        // Rare (a filter echoed as sent): nlohmann's own replacement, byte for byte.
        out += nlohmann::json(std::string(text))
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        return;
    }
    static constexpr char k_hex[] = "0123456789abcdef";
    out += '"';
    std::size_t plain_from = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(text, plain_from, i - plain_from);
        plain_from = i + 1;
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                out += "\\u00";
                out += k_hex[c >> 4];
                out += k_hex[c & 0xf];
        }
    }
    out.append(text, plain_from, text.size() - plain_from);
    out += '"';
}

void append_image(std::string& out, const catalog::Image& image, const ImageLinks& links) {
    // Writes a member's key, after a '{' or a ','; returns `out` for its value. The keys
    // come in nlohmann's (sorted) order.
    char before = '{';
    const auto key = [&](std::string_view name) -> std::string& {
        out += before;
        before = ',';
        append_key(out, name);
        return out;
    };
    const auto append_optional = [](std::string& to, const std::optional<std::string>& value) {
        if (value)
            append_string(to, *value);
        else
            to += "null";
    };
    append_string(key("client_id"), image.client_id);
    append_optional(key("description"), image.description);
    append_string(key("filename"), image.filename);
    append_integer(key("id"), image.id);
    append_optional(key("name"), image.name);
    append_string(key("original_filename"), image.original_filename);
    append_integer(key("size"), image.size);
    if (links.variants.empty())
        key("thumbnail_url") += "null";
    else
        append_string(key("thumbnail_url"), links.variants.front().second);
    append_string(key("uploaded_at"), to_iso8601(image.uploaded_at));
    append_string(key("url"), links.url);
    // nlohmann writes an object's members sorted by name.
    std::vector<const std::pair<std::string, std::string>*> variants;
    for (const auto& variant : links.variants) variants.push_back(&variant);
    std::ranges::sort(variants, {}, [](const auto* variant) { return variant->first; });
    std::string& members = key("variants");
    char separator = '{';
    for (const auto* variant : variants) {
        members += separator;
        separator = ',';
        append_key(members, variant->first);
        append_string(members, variant->second);
    }
    members += variants.empty() ? "{}" : "}";
    out += '}';
}

}  // namespace gallery::api::json_text
