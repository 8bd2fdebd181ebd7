#include "gallery/api/forwarded.hpp"

#include <algorithm>

namespace gallery::api {
namespace {

bool from_trusted_proxy(const Request& request, const config::Config& config) {
    return std::ranges::find(config.trusted_proxies, request.remote_address) !=
           config.trusted_proxies.end();
}

std::string trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return std::string(text.substr(first, text.find_last_not_of(" \t") - first + 1));
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string form_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out += ' ';
        } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
                   hex_value(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

}  // namespace

std::string client_address(const Request& request, const config::Config& config) {
    if (!from_trusted_proxy(request, config)) return request.remote_address;
    const auto forwarded = request.header("X-Forwarded-For");
    if (!forwarded || forwarded->empty()) return request.remote_address;
    const std::size_t comma = forwarded->rfind(',');
    const std::string last =
        trimmed(comma == std::string::npos ? std::string_view(*forwarded)
                                           : std::string_view(*forwarded).substr(comma + 1));
    return last.empty() ? request.remote_address : last;
}

bool came_over_https(const Request& request, const config::Config& config) {
    return from_trusted_proxy(request, config) &&
           request.header("X-Forwarded-Proto").value_or("") == "https";
}

std::multimap<std::string, std::string> parse_form(std::string_view body) {
    std::multimap<std::string, std::string> fields;
    while (!body.empty()) {
        const std::size_t amp = body.find('&');
        const std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        if (pair.empty()) continue;
        const std::size_t eq = pair.find('=');
        fields.emplace(form_decode(pair.substr(0, eq)),
                       eq == std::string_view::npos ? "" : form_decode(pair.substr(eq + 1)));
    }
    return fields;
}

}  // namespace gallery::api
