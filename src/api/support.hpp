#pragma once
// Helpers shared by the route files: parameter parsing that answers API.md's
// 400s, JSON shapes of images and pagination, database failures as JSON 500.

#include <expected>
#include <string>

#include "api/json_text.hpp"
#include "gallery/api/api.hpp"
#include "gallery/catalog/catalog.hpp"

namespace gallery::api {

// A parse step either yields a value or the response to send instead.
template <class T>
using Parsed = std::expected<T, Response>;

inline constexpr std::int64_t k_default_page_size = 20;
inline constexpr std::int64_t k_max_page_size = 100;

// An integer query parameter; `fallback` when absent. 400 "Invalid parameter: ..." otherwise.
Parsed<std::int64_t> int_query(const Request& request, const std::string& name,
                               std::int64_t fallback, std::int64_t minimum);

// page (>= 1) and page_size (>= 1, capped at 100).
Parsed<catalog::PageRequest> page_query(const Request& request);

// A non-empty query parameter, or nullopt.
std::optional<std::string> text_query(const Request& request, const std::string& name);

// `search`, or nullopt when absent or empty; 400 when catalog::search_problem says why
// it cannot be one.
Parsed<std::optional<std::string>> search_query(const Request& request);

// The body as a JSON object; 400 "Invalid JSON in request body." otherwise.
Parsed<nlohmann::json> json_object_body(const Request& request);

// A client id as given by a caller: trimmed, 1..255 bytes of UTF-8 without control characters.
Parsed<std::string> checked_client_id(const std::string& raw);

// The most ids a bulk-delete or a restore may name; larger lists are refused (400).
inline constexpr std::size_t k_max_image_ids = 10'000;

// body["image_ids"]: a non-empty array of at most k_max_image_ids ids, each a JSON
// integer or a string the original's int() accepts. 400 with a sentence otherwise.
Parsed<std::vector<catalog::ImageId>> parse_image_ids(const nlohmann::json& body);

// Which deleted images a restore or a purge names: `{"image_ids": [...]}` (ids as
// parse_image_ids) or `{"client_id": "..."}` (checked_client_id), exactly one of them.
struct ImageSelection {
    std::optional<std::vector<catalog::ImageId>> ids;
    std::optional<std::string> client_id;
};
Parsed<ImageSelection> image_selection(const Request& request);

// A free-text field (name, description, filename): valid UTF-8 and not absurdly long.
Parsed<std::string> checked_text(const std::string& field, const std::string& raw);

// How API answers write an image's `url` (docs/API.md, "Image URLs"), fixed for one
// request: under public_url when set; else on S3 a presigned GET of the object (as the
// original answered on a private bucket); else /media/<key>, absolute under base_url or
// a trusted proxy's forwarded origin, relative without either.
class MediaLinks {
  public:
    MediaLinks(const ApiContext& context, const Request& request);
    std::string url_for(const std::string& storage_key) const;
    // The image's url and its variants': under public_url in the bucket, otherwise
    // gallery's /media/variants/ route, which makes a variant on its first request.
    ImageLinks links_for(const catalog::Image& image) const;
    // The same into `links`, whose strings keep their capacity from the image before: a
    // list answer fills one ImageLinks for all its images (issue 40: no allocations per
    // image that a kept buffer avoids).
    void fill_links(const catalog::Image& image, ImageLinks& links) const;

  private:
    void fill_url(const std::string& storage_key, std::string& url) const;

    const ApiContext& m_context;
    std::string m_media_base;    // "" or "https://host"; /media/<key> follows
    std::string m_variant_base;  // what "/" and a variant's key follow
    long long m_now_seconds = 0;
};

// A presigned GET of `key` valid for media_url_expiry, signed at the start of the
// current half-validity period: one image gets the same URL for that long (browsers
// cache it), and every URL handed out works for at least half the expiry. nullopt on
// a backend without presigned URLs (local disk).
std::optional<std::string> presigned_media_url(const ApiContext& context, const std::string& key,
                                               long long now_seconds);

nlohmann::json image_json(const catalog::Image& image, const MediaLinks& links);
// The same with its URLs given (json_text::append_image writes the same bytes).
nlohmann::json image_json(const catalog::Image& image, const ImageLinks& links);
nlohmann::json pagination_json(const catalog::PageRequest& page, std::int64_t total_count);

// 503 with `sentence` and Retry-After: a bounded resource is taken, try again then.
Response overloaded(const std::string& sentence, std::chrono::seconds retry_after);

// The 503 of a request that found no pooled connection in time (db::PoolTimeout).
Response no_connection_in_time();

// Logs the error and answers it with http_status_for's status, Retry-After on a 503,
// and a sentence that shows nothing internal: the error's own message only for
// invalid_input, not_found and overloaded (it names the busy resource).
Response error_response(const Error& error);

// Runs `write`, a write that frees space (a delete). When the disk under the database
// is full, releases the context's disk reserve (db/disk_reserve.hpp) and runs it once
// more: the API can still free space on a full disk.
template <class Write>
auto freeing_space(ApiContext& context, Write&& write) -> decltype(write()) {
    auto result = write();
    if (!result && result.error().kind == ErrorKind::disk_full && context.disk_reserve &&
        context.disk_reserve->release()) {
        return write();
    }
    return result;
}

// Route groups, one file each.
void add_image_routes(Router& router, ApiContext& context);
void add_upload_route(Router& router, ApiContext& context);
void add_client_routes(Router& router, ApiContext& context);
void add_cleanup_routes(Router& router, ApiContext& context);
void add_media_routes(Router& router, ApiContext& context);
void add_restore_route(Router& router, ApiContext& context);
void add_purge_route(Router& router, ApiContext& context);

}  // namespace gallery::api
