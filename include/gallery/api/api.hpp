#pragma once
// The gallery HTTP API (docs/API.md) as plain handlers over the core.

#include <memory>
#include <string>

#include "gallery/api/background.hpp"
#include "gallery/api/budget.hpp"
#include "gallery/api/client_registry.hpp"
#include "gallery/api/http.hpp"
#include "gallery/api/metrics.hpp"
#include "gallery/api/router.hpp"
#include "gallery/api/variant_maker.hpp"
#include "gallery/catalog/catalog.hpp"
#include "gallery/catalog/upload_keys.hpp"
#include "gallery/common/time.hpp"
#include "gallery/config/config.hpp"
#include "gallery/db/disk_reserve.hpp"
#include "gallery/db/pool.hpp"
#include "gallery/imaging/admission.hpp"
#include "gallery/storage/storage.hpp"

namespace gallery::api {

// What the handlers need; owned by the caller and outliving the router.
struct ApiContext {
    db::ConnectionPool& pool;
    storage::Storage& storage;
    const config::Config& config;
    ClientRegistry& clients;
    std::string api_key;
    Clock clock = system_clock();
    std::string lease_owner;  // cleanup/run and the admin's runs lease as "<this>:run-N"
    std::shared_ptr<Metrics> metrics = std::make_shared<Metrics>();
    // Keys for uploads under intents reserved in batches; releases the unused ones when
    // the context goes, after the server that used it has stopped.
    std::shared_ptr<catalog::UploadKeys> upload_keys = std::make_shared<catalog::UploadKeys>(pool);
    // Places, slots and memory for re-encoding large uploads (issue 36).
    std::shared_ptr<imaging::EncodeAdmission> encoding =
        std::make_shared<imaging::EncodeAdmission>(imaging::admission_limits_from(config));
    // Image searches running at once: a quarter of the pooled connections (issue 36).
    std::shared_ptr<Budget> searches =
        std::make_shared<Budget>(static_cast<std::size_t>(config.db_pool_size) / 4);
    // Variants being made on their first request (issue 41).
    std::shared_ptr<VariantMaker> variants = std::make_shared<VariantMaker>();
    std::string version = "gallery";  // for gallery_build_info
    // Space held beside a SQLite database for deletes on a full disk; none on PostgreSQL.
    std::shared_ptr<db::DiskReserve> disk_reserve = nullptr;
    // Declared last, so destroyed first: waits for runs that use the members above.
    std::shared_ptr<BackgroundRuns> background = std::make_shared<BackgroundRuns>();
};

// Where an image is served: /media/<key>, or under the public bucket URL.
std::string image_url(const catalog::Image& image, const config::Config& config);
// The stored object at `key` as /media/ answers for it: streamed from local disk, or a
// redirect to the bucket (public URL or presigned GET). The caller decides who may see it.
Response serve_media_object(ApiContext& context, const Request& request, const std::string& key);

// Its first variant's /media/variants/ path (made on first request), or image_url
// when no variant is configured: what a grid shows.
std::string thumbnail_url(const catalog::Image& image, const config::Config& config);

// Every route of docs/API.md, /healthz, /metrics and /media/ (admin::make_server_router
// adds the admin pages).
Router make_router(ApiContext& context);

// The whole request path: a request id (X-Request-Id, and in every log line of the
// request), CORS preflight, the API key check for /api/ (and /metrics unless public),
// routing, one fallback that turns any exception into API.md's JSON 500 (nothing
// leaks), one access-log line and the request metrics.
Response handle_request(const Router& router, const ApiContext& context, Request& request);

// For HttpServer's Admit, before the body is read: the API key check of
// handle_request, answered (with CORS, request id and log line) before an
// unauthenticated client can make the server read or inflate a byte of its body.
// An upload whose body is over max_upload_mb (it may need re-encoding) takes its
// place among the re-encodes here (Request::encode_place), or is answered 503 at once
// when there is none, before its body is kept.
std::optional<Response> admit_request(const ApiContext& context, Request& request);

}  // namespace gallery::api
