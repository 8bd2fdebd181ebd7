#include "gallery/api/api.hpp"

#include <algorithm>

#include "api/support.hpp"
#include "gallery/api/api_key.hpp"
#include "gallery/common/log.hpp"

namespace gallery::api {
namespace {

void add_cors_headers(const ApiContext& context, const Request& request, Response& response) {
    const auto origin = request.header("Origin");
    if (!origin) return;
    const auto& allowed = context.config.cors_origins;
    if (std::ranges::find(allowed, *origin) == allowed.end() &&
        std::ranges::find(allowed, "*") == allowed.end()) {
        return;
    }
    response.headers.emplace_back("Access-Control-Allow-Origin", *origin);
    response.headers.emplace_back("Vary", "Origin");
}

Response preflight(const Router& router, const ApiContext& context, const Request& request) {
    const auto methods = router.allowed_methods(request.path);
    Response response;
    response.status = methods.empty() ? 404 : 204;
    response.content_type.clear();
    add_cors_headers(context, request, response);
    if (methods.empty() || response.headers.empty()) return response;
    std::string allow = "OPTIONS";
    for (const std::string& m : methods) allow += ", " + m;
    response.headers.emplace_back("Access-Control-Allow-Methods", allow);
    response.headers.emplace_back("Access-Control-Allow-Headers", "X-API-Key, Content-Type");
    response.headers.emplace_back("Access-Control-Max-Age", "600");
    return response;
}

std::optional<Response> check_api_key(const ApiContext& context, const Request& request) {
    const auto given = request.header("X-API-Key");
    if (!given || given->empty()) {
        return Response::error(401, "API key is required. Please provide X-API-Key header.");
    }
    if (!api_key_matches(context.api_key, *given))
        return Response::error(401, "Invalid API key. Access denied.");
    return std::nullopt;
}

}  // namespace

Router make_router(ApiContext& context) {
    Router router;
    add_upload_route(router, context);
    add_image_routes(router, context);
    add_client_routes(router, context);
    add_cleanup_routes(router, context);
    add_media_routes(router, context);
    return router;
}

Response handle_request(const Router& router, const ApiContext& context, Request& request) {
    Response response;
    try {
        if (request.method == "OPTIONS") return preflight(router, context, request);
        const bool is_api = request.path == "/api" || request.path.starts_with("/api/");
        std::optional<Response> refused = is_api ? check_api_key(context, request) : std::nullopt;
        response = refused ? *refused : router.dispatch(request);
    } catch (const std::exception& e) {
        log::error("unhandled error on " + request.method + " " + request.path + ": " + e.what());
        response = Response::error(500, "Internal server error.");
    }
    add_cors_headers(context, request, response);
    return response;
}

}  // namespace gallery::api
