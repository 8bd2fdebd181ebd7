#include "gallery/common/text.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace gallery {
namespace {

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::string to_lower(std::string_view text) {
    std::string out(text);
    std::ranges::transform(out, out.begin(), lower);
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return std::ranges::equal(a, b, [](char x, char y) { return lower(x) == lower(y); });
}

bool is_valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto byte = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        std::uint32_t code_point = 0;
        if (byte < 0x80) {
            ++i;
            continue;
        } else if ((byte & 0xE0) == 0xC0) {
            length = 2;
            code_point = byte & 0x1F;
        } else if ((byte & 0xF0) == 0xE0) {
            length = 3;
            code_point = byte & 0x0F;
        } else if ((byte & 0xF8) == 0xF0) {
            length = 4;
            code_point = byte & 0x07;
        } else {
            return false;
        }
        if (i + length > text.size()) return false;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            code_point = (code_point << 6) | (next & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
        const std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
        if (code_point < smallest[length] || code_point > 0x10FFFF ||
            (code_point >= 0xD800 && code_point <= 0xDFFF)) {
            return false;
        }
        i += length;
    }
    return true;
}

std::string printable(std::string_view text) {
    static constexpr char k_hex[] = "0123456789abcdef";
    const auto escape = [](std::string& out, unsigned char byte) {
        out += "\\x";
        out += k_hex[byte >> 4];
        out += k_hex[byte & 0xF];
    };
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte == '\\') {
            out += "\\\\";
            ++i;
        } else if (byte < 0x20 || byte == 0x7F) {
            escape(out, byte);
            ++i;
        } else if (byte < 0x80) {
            out += static_cast<char>(byte);
            ++i;
        } else {
            // One UTF-8 character, whole, when it is valid and not a C1 control.
            const std::size_t length = (byte & 0xE0) == 0xC0   ? 2
                                       : (byte & 0xF0) == 0xE0 ? 3
                                       : (byte & 0xF8) == 0xF0 ? 4
                                                               : 0;
            const std::string_view character =
                length > 0 && i + length <= text.size() ? text.substr(i, length) : "";
            const bool c1 =
                length == 2 && byte == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
            if (!character.empty() && is_valid_utf8(character) && !c1) {
                out += character;
                i += length;
            } else {
                escape(out, byte);
                ++i;
            }
        }
    }
    return out;
}

std::size_t utf8_length(std::string_view text) {
    std::size_t characters = 0;
    for (const char c : text) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++characters;
    }
    return characters;
}

std::string to_hex(std::string_view bytes) {
    constexpr char k_digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        out += k_digits[byte >> 4];
        out += k_digits[byte & 0x0f];
    }
    return out;
}

std::string format_bytes(std::uint64_t bytes) {
    constexpr const char* k_units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(k_units)) {
        value /= 1024;
        ++unit;
    }
    char text[32];
    if (unit == 0)
        std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
    else
        std::snprintf(text, sizeof text, "%.1f %s", value, k_units[unit]);
    return text;
}

std::string redact_url(std::string_view url) {
    std::string out(url);
    if (const auto scheme = out.find("://"); scheme != std::string::npos) {
        const auto authority = scheme + 3;
        const auto at = out.find('@', authority);
        const auto slash = out.find_first_of("/?", authority);
        if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
            const auto colon = out.find(':', authority);
            if (colon != std::string::npos && colon < at)
                out.replace(colon + 1, at - colon - 1, "****");
        }
    }
    for (std::size_t at = 0; (at = out.find("password=", at)) != std::string::npos;) {
        const bool starts_word = at == 0 || out[at - 1] == '?' || out[at - 1] == '&' ||
                                 out[at - 1] == ' ' || out[at - 1] == '\t';
        at += std::string_view("password=").size();
        if (!starts_word) continue;
        std::size_t end = at;
        if (end < out.size() && out[end] == '\'') {
            end = out.find('\'', end + 1);
            end = end == std::string::npos ? out.size() : end + 1;
        } else {
            end = out.find_first_of("& \t", at);
            if (end == std::string::npos) end = out.size();
        }
        out.replace(at, end - at, "****");
    }
    return out;
}

}  // namespace gallery
