#include "gallery/api/forwarded.hpp"

#include <algorithm>
#include <cctype>

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

std::optional<std::string> forwarded_origin(const Request& request, const config::Config& config) {
    if (!from_trusted_proxy(request, config)) return std::nullopt;
    auto host = request.header("X-Forwarded-Host");
    if (!host || host->empty()) host = request.header("Host");
    if (!host) return std::nullopt;
    // The first of a list is the one the client used.
    const std::string first = trimmed(std::string_view(*host).substr(0, host->find(',')));
    const bool plain = !first.empty() && std::ranges::all_of(first, [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    });
    if (!plain) return std::nullopt;
    return (came_over_https(request, config) ? "https://" : "http://") + first;
}

}  // namespace gallery::api
