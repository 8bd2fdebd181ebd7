// GET /media/<key>: objects of the local backend (when no public URL serves them),
// with Content-Type, ETag / Last-Modified and 304s. Keys are checked by the
// storage backend, so no request reaches outside the media root. Also /healthz.

#include <SQLiteCpp/SQLiteCpp.h>

#include <ctime>

#include "api/support.hpp"
#include "gallery/catalog/image_format.hpp"

namespace gallery::api {
namespace {

std::string http_date(UnixMicros t) {
    const std::time_t seconds = static_cast<std::time_t>(t / k_micros_per_second);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[64];
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    return text;
}

Response media(ApiContext& context, const Request& request) {
    const std::string key = request.path.substr(std::string_view("/media/").size());
    const Response not_found = Response::error(404, "Not found: " + request.path);
    if (!context.storage.check_key(key)) return not_found;
    auto info = context.storage.head(key);
    if (!info) return internal_error(info.error());
    if (!*info) return not_found;
    const std::string etag =
        "\"" + std::to_string((*info)->size) + "-" + std::to_string((*info)->last_modified) + "\"";
    std::vector<std::pair<std::string, std::string>> headers{
        {"ETag", etag},
        {"Last-Modified", http_date((*info)->last_modified)},
        // Stored names are random UUIDs that never change meaning.
        {"Cache-Control", "public, max-age=31536000, immutable"},
        {"X-Content-Type-Options", "nosniff"}};
    if (request.header("If-None-Match") == etag) {
        Response response;
        response.status = 304;
        response.content_type.clear();
        response.headers = headers;
        return response;
    }
    auto object = context.storage.get(key);
    if (!object) return internal_error(object.error());
    if (!*object) return not_found;
    Response response;
    response.content_type = std::string(catalog::content_type_for_key(key));
    response.body = std::move(**object);
    response.headers = headers;
    response.headers.emplace_back("Accept-Ranges", "bytes");
    response.allow_ranges = true;
    return response;
}

Response health(ApiContext& context, const Request&) {
    try {
        auto connection = context.pool.acquire();
        connection->sqlite().execAndGet("SELECT COUNT(*) FROM schema_migrations");
        return Response::json(200, {{"status", "ok"}});
    } catch (const std::exception& e) {
        return internal_error(Error{ErrorKind::database, std::string("healthz: ") + e.what()});
    }
}

}  // namespace

void add_media_routes(Router& router, ApiContext& context) {
    router.add("GET", "/healthz", [&context](const Request& r) { return health(context, r); });
    if (context.config.storage == config::StorageKind::local) {
        router.add_prefix("GET", "/media/",
                          [&context](const Request& r) { return media(context, r); });
    }
}

}  // namespace gallery::api
