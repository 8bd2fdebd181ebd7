// GET /media/<key>: the local backend's objects of live images only (never the
// database, a temporary file or a deleted image), streamed from disk with
// Content-Type, ETag / Last-Modified, 304s and at most one byte range. Keys are
// checked by the storage backend, which never leaves the media root nor follows a
// symlink. On S3 without public_url, a redirect to a presigned GET of a live image's
// object. Also /healthz.

#include "gallery/db/statement.hpp"
#include "gallery/db/transaction.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "api/support.hpp"
#include "gallery/api/variant_maker.hpp"
#include "gallery/catalog/image_format.hpp"
#include "gallery/common/log.hpp"
#include "gallery/common/variant_key.hpp"
#include "gallery/queue/queue.hpp"

namespace gallery::api {
namespace {

std::string http_date(UnixMicros t) {
    return format_utc(t, "%a, %d %b %Y %H:%M:%S GMT");
}

struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t length = 0;
};

std::optional<std::uint64_t> number(std::string_view text) {
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

enum class RangeAnswer { whole, part, unsatisfiable };

// One "bytes=a-b", "bytes=a-" or "bytes=-n" range is honoured; several ranges, or a
// header that is not one range, get the whole object (RFC 9110 lets a server ignore
// Range): never a multipart answer, so one request cannot ask for a file many times over.
RangeAnswer parse_range(const std::string& header, std::uint64_t size, ByteRange& range) {
    constexpr std::string_view k_unit = "bytes=";
    if (!header.starts_with(k_unit) || header.find(',') != std::string::npos)
        return RangeAnswer::whole;
    const std::string_view spec = std::string_view(header).substr(k_unit.size());
    const std::size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return RangeAnswer::whole;
    const std::string_view first_text = spec.substr(0, dash);
    const std::string_view last_text = spec.substr(dash + 1);
    const auto first = number(first_text);
    const auto last = number(last_text);
    if ((!first_text.empty() && !first) || (!last_text.empty() && !last))
        return RangeAnswer::whole;  // not a range: ignored
    if (!first) {                   // a suffix: the last n bytes
        if (!last) return RangeAnswer::whole;
        if (*last == 0 || size == 0) return RangeAnswer::unsatisfiable;
        range.length = std::min(*last, size);
        range.first = size - range.length;
        return RangeAnswer::part;
    }
    if (last && *last < *first) return RangeAnswer::whole;
    if (*first >= size) return RangeAnswer::unsatisfiable;
    const std::uint64_t end = last ? std::min(*last, size - 1) : size - 1;
    range.first = *first;
    range.length = end - *first + 1;
    return RangeAnswer::part;
}

Result<bool> is_live_image_key(ApiContext& context, const std::string& key) {
    auto connection = context.pool.acquire();
    auto live = queue::keys_in_use(*connection, std::span<const std::string>(&key, 1));
    if (!live) return std::unexpected(live.error());
    return live->front();
}

// The key a /media/ request names when it is a live image's, or the answer to give
// instead: 404 for a key storage refuses or no live image has, 500 when the database
// cannot say.
std::expected<std::string, Response> live_media_key(ApiContext& context, const Request& request) {
    std::string key = request.path.substr(std::string_view("/media/").size());
    if (!context.storage.check_key(key))
        return std::unexpected(Response::error(404, "Not found: " + request.path));
    auto live = is_live_image_key(context, key);
    if (!live) return std::unexpected(error_response(live.error()));
    if (!*live) return std::unexpected(Response::error(404, "Not found: " + request.path));
    return key;
}

// The object at `key`, streamed from disk.
Response serve_object(ApiContext& context, const Request& request, const std::string& key) {
    auto object = context.storage.open(key);
    if (!object) return error_response(object.error());
    if (!*object) return Response::error(404, "Not found: " + request.path);
    const storage::ObjectInfo& info = (*object)->info;
    const std::string etag =
        "\"" + std::to_string(info.size) + "-" + std::to_string(info.last_modified) + "\"";
    std::vector<std::pair<std::string, std::string>> headers{
        {"ETag", etag},
        {"Last-Modified", http_date(info.last_modified)},
        // A deleted image must stop being served: caches keep a copy this long at most.
        {"Cache-Control",
         "public, max-age=" + std::to_string(context.config.media_max_age.count())},
        {"Accept-Ranges", "bytes"}};
    if (request.header("If-None-Match") == etag) {
        Response response;
        response.status = 304;
        response.content_type.clear();
        response.headers = headers;
        return response;
    }
    Response response;
    response.content_type = std::string(catalog::content_type_for_key(key));
    response.headers = headers;
    response.stream = (*object)->read_at;
    response.stream_length = info.size;
    ByteRange range;
    switch (parse_range(request.header("Range").value_or(""), info.size, range)) {
        case RangeAnswer::whole:
            break;
        case RangeAnswer::part:
            response.status = 206;
            response.stream_offset = range.first;
            response.stream_length = range.length;
            response.headers.emplace_back("Content-Range",
                                          "bytes " + std::to_string(range.first) + "-" +
                                              std::to_string(range.first + range.length - 1) + "/" +
                                              std::to_string(info.size));
            break;
        case RangeAnswer::unsatisfiable: {
            Response refused = Response::error(416, "Requested range not satisfiable.");
            refused.headers = headers;
            refused.headers.emplace_back("Content-Range", "bytes */" + std::to_string(info.size));
            return refused;
        }
    }
    return response;
}

Response media(ApiContext& context, const Request& request) {
    auto live_key = live_media_key(context, request);
    if (!live_key) return std::move(live_key.error());
    return serve_object(context, request, *live_key);
}

// A redirect to the bucket's object, never cached (see presigned_redirect).
Response redirect_to_bucket(ApiContext& context, const Request& request, const std::string& key) {
    std::optional<std::string> url;
    if (!context.config.public_url.empty())
        url = context.config.public_url + "/" + key;
    else
        url = presigned_media_url(context, key, context.clock() / k_micros_per_second);
    if (!url) return Response::error(404, "Not found: " + request.path);
    Response response;
    response.status = 302;
    response.content_type.clear();
    response.headers = {{"Location", *url}, {"Cache-Control", "no-store"}};
    return response;
}

// GET /media/variants/<name>/<image key>.jpg (.webp with variant_format = webp; issue
// 41): a live image's variant in the configured format, made on its first request,
// then served as /media/ serves the image (local disk) or redirected to the bucket
// (S3, public or presigned).
Response variant_media(ApiContext& context, const Request& request) {
    const std::string key = request.path.substr(std::string_view("/media/").size());
    const auto variant = parse_variant_key(key);
    const auto& variants = context.config.variants;
    const auto spec = variant
                          ? std::ranges::find(variants, variant->name, &config::VariantSpec::name)
                          : variants.end();
    if (spec == variants.end() || variant->format != context.config.variant_format ||
        !context.storage.check_key(key))
        return Response::error(404, "Not found: " + request.path);
    const std::string image_key(variant->image_key);
    auto live = is_live_image_key(context, image_key);
    if (!live) return error_response(live.error());
    if (!*live) return Response::error(404, "Not found: " + request.path);
    auto ensured = context.variants->ensure(
        context, {.variant_key = key,
                  .image_key = image_key,
                  .variant_index = static_cast<std::size_t>(spec - variants.begin()),
                  .arrived = request.arrived});
    if (!ensured) {
        if (ensured.error().kind == ErrorKind::not_found)
            return Response::error(404, "Not found: " + request.path);
        return error_response(ensured.error());
    }
    return serve_media_object(context, request, key);
}

// S3 without public_url (a private bucket, R2's default): a live image's key answers
// with a redirect to a presigned GET, so the bytes go from the bucket to the client
// and nothing but the redirect passes through gallery. The URL is signed at the
// start of the current half of its validity, so it stays the same (and the browser
// can cache the image by it) for half the validity, and always works for at least
// the other half. The redirect itself is never cached: a deleted image is a 404 at
// once, whatever the bucket still holds until cleanup.
Response presigned_redirect(ApiContext& context, const Request& request) {
    auto key = live_media_key(context, request);
    if (!key) return std::move(key.error());
    return redirect_to_bucket(context, request, *key);
}

// What keeps a reachable database or storage from taking writes, told by the files
// themselves (a syscall each, no lock): the SQLite file or its folder (where -wal and
// -shm live) not writable, the media root gone or not writable. nullopt when fine.
std::optional<Response> unwritable(const config::Config& config) {
    const auto refuse = [](const char* part, const char* state, const std::string& detail) {
        Response refusal =
            Response::json(503, {{"status", "unavailable"}, {part, state}, {"detail", detail}});
        add_retry_after(refusal, Error{ErrorKind::io, detail});
        return refusal;
    };
    if (config.db_url.empty()) {
        const std::filesystem::path folder = config.db_path.has_parent_path()
                                                 ? config.db_path.parent_path()
                                                 : std::filesystem::path(".");
        if (::access(config.db_path.c_str(), W_OK) != 0 || ::access(folder.c_str(), W_OK) != 0)
            return refuse("database", "read-only",
                          "The database cannot be written: its file or folder is read-only.");
    }
    if (config.storage == config::StorageKind::local) {
        std::error_code ec;
        if (!std::filesystem::is_directory(config.media_root, ec))
            return refuse("storage", "missing", "The media root does not exist.");
        if (::access(config.media_root.c_str(), W_OK) != 0)
            return refuse("storage", "read-only", "The media root cannot be written.");
    }
    return std::nullopt;
}

Response health(ApiContext& context, const Request&) {
    auto checked = db::read("healthz", [&] {
        auto connection = context.pool.acquire();
        return db::query_int64(*connection, "SELECT COUNT(*) FROM schema_migrations");
    });
    if (checked) {
        if (auto refusal = unwritable(context.config)) return std::move(*refusal);
        if (context.disk_reserve && !context.disk_reserve->held()) {
            const std::string detail =
                "The disk that holds the database is full: deletes still work, on the space "
                "kept in reserve; uploads fail until space is freed.";
            Response full = Response::json(
                503, {{"status", "unavailable"}, {"database", "disk full"}, {"detail", detail}});
            add_retry_after(full, Error{ErrorKind::disk_full, detail, std::chrono::seconds{60}});
            return full;
        }
        return Response::json(200, {{"status", "ok"}, {"database", "ok"}});
    }
    if (checked.error().kind == ErrorKind::database_unavailable) {
        log::warn(checked.error().message);
        Response down = Response::json(503, {{"status", "unavailable"},
                                             {"database", "down"},
                                             {"detail", "The database is unavailable."}});
        add_retry_after(down, checked.error());
        return down;
    }
    return error_response(checked.error());
}

}  // namespace

Response serve_media_object(ApiContext& context, const Request& request, const std::string& key) {
    if (context.config.storage == config::StorageKind::local)
        return serve_object(context, request, key);
    return redirect_to_bucket(context, request, key);
}

void add_media_routes(Router& router, ApiContext& context) {
    router.add("GET", "/healthz", [&context](const Request& r) { return health(context, r); });
    // Before /media/: variants are made on their first request, whatever the storage.
    router.add_prefix("GET", "/media/" + std::string(variant_prefix),
                      [&context](const Request& r) { return variant_media(context, r); });
    if (context.config.storage == config::StorageKind::local) {
        router.add_prefix("GET", "/media/",
                          [&context](const Request& r) { return media(context, r); });
    } else if (context.config.public_url.empty()) {
        router.add_prefix("GET", "/media/",
                          [&context](const Request& r) { return presigned_redirect(context, r); });
    }
}

}  // namespace gallery::api
