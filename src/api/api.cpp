#include "gallery/api/api.hpp"
#include "gallery/backup/backup.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "api/cors.hpp"
#include "api/support.hpp"
#include "gallery/api/api_key.hpp"
#include "gallery/common/log.hpp"
#include "gallery/common/random.hpp"
#include "gallery/queue/queue.hpp"

namespace gallery::api {
namespace {

// OPTIONS that is not an /api/ preflight: as Django's View.options, the methods of
// the path in Allow (404 for a path nothing answers).
Response options(const Router& router, const Request& request) {
    const auto methods = router.allowed_methods(request.path);
    Response response;
    response.content_type.clear();
    if (methods.empty()) return Response::error(404, "Not found: " + request.path);
    std::string allow = "OPTIONS";
    for (const std::string& m : methods) allow += ", " + m;
    response.headers.emplace_back("Allow", allow);
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

Response metrics_page(ApiContext& context, const Request&) {
    auto connection = context.pool.acquire();
    const UnixMicros now = context.clock();
    auto held = backup::guard_since(*connection, context.config);
    if (!held) return error_response(held.error());
    auto stats = queue::stats(*connection, now, *held);
    if (!stats) return error_response(stats.error());
    Response response;
    response.content_type = "text/plain; version=0.0.4";
    response.body = context.metrics->render(
        *stats, now, context.version,
        {context.encoding->snapshot(), context.pool.wait_stats(), context.searches->refusals(),
         context.variants->made()});
    return response;
}

bool needs_api_key(const ApiContext& context, const Request& request) {
    if (request.path == "/api" || request.path.starts_with("/api/")) return true;
    return (request.path == "/metrics" || request.path == "/metrics/") &&
           !context.config.metrics_public;
}

}  // namespace

Router make_router(ApiContext& context) {
    Router router;
    router.add("GET", "/metrics",
               [&context](const Request& r) { return metrics_page(context, r); });
    add_upload_route(router, context);
    add_image_routes(router, context);
    add_client_routes(router, context);
    add_cleanup_routes(router, context);
    add_media_routes(router, context);
    add_restore_route(router, context);
    add_purge_route(router, context);
    return router;
}

namespace {

// What every answer gets, refusals before the body included: CORS, the request id,
// the request metrics and one access-log line.
Response finish(const ApiContext& context, const Request& request, Response response,
                const std::string& request_id, std::chrono::steady_clock::time_point started) {
    add_cors_headers(context.config, request, response);
    response.headers.emplace_back("X-Request-Id", request_id);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    context.metrics->record_request(request.route, request.method, response.status, seconds);
    // Never the query string or headers: they may carry keys.
    log::info("request",
              {{"method", request.method},
               {"route", request.route},
               {"status", std::int64_t{response.status}},
               {"duration_ms", seconds * 1000},
               {"bytes", static_cast<std::int64_t>(response.stream ? response.stream_length
                                                                   : response.body.size())}});
    log::set_request_id({});
    return response;
}

// An upload over max_upload_mb may need re-encoding: it takes one of the limited
// places before its body is kept, or is refused now (the transport discards the body).
std::optional<Response> reserve_encode_place(const ApiContext& context, Request& request) {
    if (request.method != "POST" || request.path != "/api/upload/") return std::nullopt;
    const auto length = request.header("Content-Length");
    std::uint64_t declared = 0;
    if (!length || std::from_chars(length->data(), length->data() + length->size(), declared).ec !=
                       std::errc{}) {
        return std::nullopt;
    }
    if (declared <= context.config.max_upload_bytes) return std::nullopt;
    auto place = context.encoding->reserve();
    if (!place) return error_response(place.error());
    request.encode_place = std::make_shared<imaging::EncodeAdmission::Place>(std::move(*place));
    return std::nullopt;
}

}  // namespace

std::optional<Response> admit_request(const ApiContext& context, Request& request) {
    if (request.method == "OPTIONS" || !needs_api_key(context, request)) return std::nullopt;
    const auto started = std::chrono::steady_clock::now();
    std::optional<Response> refused = check_api_key(context, request);
    if (!refused) refused = reserve_encode_place(context, request);
    if (!refused) return std::nullopt;
    const std::string request_id = random_hex(8);
    log::set_request_id(request_id);
    return finish(context, request, std::move(*refused), request_id, started);
}

Response handle_request(const Router& router, const ApiContext& context, Request& request) {
    const auto started = std::chrono::steady_clock::now();
    const std::string request_id = random_hex(8);
    log::set_request_id(request_id);
    Response response;
    try {
        if (is_api_preflight(request)) {
            response.content_type.clear();
        } else if (request.method == "OPTIONS") {
            response = options(router, request);
        } else {
            std::optional<Response> refused =
                needs_api_key(context, request) ? check_api_key(context, request) : std::nullopt;
            response = refused ? *refused : router.dispatch(request);
        }
    } catch (const db::PoolTimeout& e) {
        log::warn(request.method + " " + request.path + ": " + e.what());
        response = no_connection_in_time();
    } catch (const std::exception& e) {
        log::error("unhandled error on " + request.method + " " + request.path + ": " + e.what());
        response = Response::error(500, "Internal server error.");
    }
    return finish(context, request, std::move(response), request_id, started);
}

}  // namespace gallery::api
