#include "api/json_text.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
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

// True when none of the 8 bytes at `bytes` needs a look of its own: each is ASCII, not
// a control character, not '"' and not '\\'. Tested a word at a time (the bit tricks of
// "Bit Twiddling Hacks": a byte below n, a zero byte); a false alarm only sends the word
// to the byte loop.
bool plain_word(const char* bytes) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    std::uint64_t word = 0;
    std::memcpy(&word, bytes, sizeof word);
    const auto has_zero_byte = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
    const std::uint64_t control = (word - ones * 0x20) & ~word & highs;
    const std::uint64_t quote = has_zero_byte(word ^ (ones * '"'));
    const std::uint64_t backslash = has_zero_byte(word ^ (ones * '\\'));
    return ((word & highs) | control | quote | backslash) == 0;
}

}  // namespace

void append_string(std::string& out, std::string_view text) {
    const std::size_t start = out.size();
    out.reserve(start + text.size() + 2);
    out += '"';
    static constexpr char k_hex[] = "0123456789abcdef";
    // One pass: plain runs are copied whole, a byte past ASCII checks the whole text as
    // UTF-8 once (nearly every key, URL and name is ASCII and never checked).
    bool checked_utf8 = false;
    std::size_t plain_from = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        if (i + 8 <= text.size() && plain_word(text.data() + i)) {
            i += 8;
            continue;
        }
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80 && !checked_utf8) {
            if (!is_valid_utf8(text)) {
                // Rare (a filter echoed as sent): nlohmann's own replacement, byte for byte.
                out.resize(start);
                out += nlohmann::json(std::string(text))
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
                return;
            }
            checked_utf8 = true;
        }
        if (c >= 0x80 || (c >= 0x20 && c != '"' && c != '\\')) {
            ++i;
            continue;
        }
        out.append(text, plain_from, i - plain_from);
        plain_from = ++i;
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
    // Digits and signs only: nothing to escape.
    key("uploaded_at") += '"';
    append_iso8601(out, image.uploaded_at);
    out += '"';
    append_string(key("url"), links.url);
    // nlohmann writes an object's members sorted by name. Usually they already are (one
    // variant, thumb): then no vector is made for the order.
    std::vector<const std::pair<std::string, std::string>*> variants;
    const bool sorted = std::ranges::is_sorted(
        links.variants, {}, [](const auto& variant) { return std::string_view(variant.first); });
    if (!sorted) {
        for (const auto& variant : links.variants) variants.push_back(&variant);
        std::ranges::sort(variants, {}, [](const auto* variant) { return variant->first; });
    }
    const auto variant_at = [&](std::size_t i) {
        return sorted ? &links.variants[i] : variants[i];
    };
    std::string& members = key("variants");
    char separator = '{';
    for (std::size_t i = 0; i < links.variants.size(); ++i) {
        const auto* variant = variant_at(i);
        members += separator;
        separator = ',';
        append_key(members, variant->first);
        append_string(members, variant->second);
    }
    members += links.variants.empty() ? "{}" : "}";
    out += '}';
}

}  // namespace gallery::api::json_text
