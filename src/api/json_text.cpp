#include "api/json_text.hpp"

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

void append_image(std::string& out, const catalog::Image& image, std::string_view url) {
    const auto optional = [&out](const std::optional<std::string>& value) {
        if (value)
            append_string(out, *value);
        else
            out += "null";
    };
    out += '{';
    append_key(out, "client_id");
    append_string(out, image.client_id);
    out += ',';
    append_key(out, "description");
    optional(image.description);
    out += ',';
    append_key(out, "filename");
    append_string(out, image.filename);
    out += ',';
    append_key(out, "id");
    append_integer(out, image.id);
    out += ',';
    append_key(out, "name");
    optional(image.name);
    out += ',';
    append_key(out, "original_filename");
    append_string(out, image.original_filename);
    out += ',';
    append_key(out, "size");
    append_integer(out, image.size);
    out += ',';
    append_key(out, "uploaded_at");
    append_string(out, to_iso8601(image.uploaded_at));
    out += ',';
    append_key(out, "url");
    append_string(out, url);
    out += '}';
}

}  // namespace gallery::api::json_text
