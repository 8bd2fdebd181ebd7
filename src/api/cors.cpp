#include "api/cors.hpp"

#include <algorithm>

namespace gallery::api {
namespace {

// django-cors-headers' defaults (CORS_ALLOW_METHODS, CORS_ALLOW_HEADERS) plus the
// original's own header, and its default CORS_PREFLIGHT_MAX_AGE.
constexpr const char* k_allowed_methods = "DELETE, GET, OPTIONS, PATCH, POST, PUT";
constexpr const char* k_allowed_headers =
    "accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with, x-api-key";
constexpr const char* k_preflight_max_age = "86400";

bool is_api_path(const std::string& path) {
    return path == "/api" || path.starts_with("/api/");
}

}  // namespace

bool is_api_preflight(const Request& request) {
    return request.method == "OPTIONS" && is_api_path(request.path) &&
           request.header("Access-Control-Request-Method").has_value();
}

void add_cors_headers(const config::Config& config, const Request& request, Response& response) {
    if (!is_api_path(request.path)) return;
    response.set_header("Vary", "Origin");
    const auto origin = request.header("Origin");
    if (!origin || origin->empty()) return;
    const auto& allowed = config.cors_origins;
    if (std::ranges::find(allowed, *origin) == allowed.end() &&
        std::ranges::find(allowed, "*") == allowed.end()) {
        return;
    }
    response.set_header("Access-Control-Allow-Origin", *origin);
    response.set_header("Access-Control-Allow-Credentials", "true");
    if (is_api_preflight(request)) {
        response.set_header("Access-Control-Allow-Methods", k_allowed_methods);
        response.set_header("Access-Control-Allow-Headers", k_allowed_headers);
        response.set_header("Access-Control-Max-Age", k_preflight_max_age);
    }
}

}  // namespace gallery::api
