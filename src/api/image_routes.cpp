// GET /api/list/, PUT (or PATCH) /api/update/<id>/, DELETE /api/delete/<id>/,
// POST /api/bulk-delete/, GET /api/stats/.

#include <charconv>

#include "api/idempotency.hpp"
#include "api/json_text.hpp"
#include "api/support.hpp"

namespace gallery::api {
namespace {

std::optional<catalog::ImageId> path_id(const Request& request) {
    const std::string& text = request.path_params.at(0);
    catalog::ImageId id = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
    return id;
}

std::string not_found(const std::string& id_text) {
    return "Image with id " + id_text + " not found.";
}

Response list_images(ApiContext& context, const Request& request) {
    auto page = page_query(request);
    if (!page) return page.error();
    catalog::ImageQuery query;
    query.client_id = text_query(request, "client_id");
    auto search = search_query(request);
    if (!search) return search.error();
    query.search = std::move(*search);
    const std::string sort_by = request.query_value("sort_by").value_or("-uploaded_at");
    query.sort_by = catalog::is_image_sort_key(sort_by) ? sort_by : "-uploaded_at";
    query.page = *page;
    // A search reads every row it cannot rule out: only a few run at once.
    const std::optional<Budget::Taken> search_turn =
        query.search ? context.searches->try_take() : std::nullopt;
    if (query.search && !search_turn) {
        return overloaded("Too many searches are running at once; try again in a second.",
                          std::chrono::seconds{1});
    }
    auto connection = context.pool.acquire();
    auto result = catalog::list_images(*connection, query);
    if (!result) return error_response(result.error());
    // As the original: a filter that was not given is echoed as "", and sort_by as sent
    // (one it does not know included; the default when absent). Written as text: the
    // same bytes as a json tree of the answer would dump (json_text.hpp).
    const MediaLinks links(context, request);
    Response response;
    response.body.reserve(256 + result->images.size() * 512);
    std::string& body = response.body;
    body += "{\"filters\":{\"client_id\":";
    json_text::append_string(body, query.client_id.value_or(""));
    body += ",\"search\":";
    json_text::append_string(body, query.search.value_or(""));
    body += ",\"sort_by\":";
    json_text::append_string(body, sort_by);
    body += "},\"images\":[";
    ImageLinks image_links;
    for (std::size_t i = 0; i < result->images.size(); ++i) {
        if (i > 0) body += ',';
        const catalog::Image& image = result->images[i];
        links.fill_links(image, image_links);
        json_text::append_image(body, image, image_links);
    }
    body += "],\"pagination\":";
    body += pagination_json(*page, result->total_count).dump();
    body += ",\"success\":true}";
    return response;
}

// name/description: a string or null; client_id: a non-empty string.
Parsed<catalog::ImageUpdate> parse_update(const nlohmann::json& body) {
    catalog::ImageUpdate update;
    for (const char* field : {"name", "description"}) {
        if (!body.contains(field)) continue;
        const auto& value = body[field];
        if (value.is_null()) {
            (std::string(field) == "name" ? update.name : update.description) =
                std::optional<std::string>{};
            continue;
        }
        if (!value.is_string())
            return std::unexpected(
                Response::error(400, std::string(field) + " must be a string or null."));
        auto text = checked_text(field, value.get<std::string>());
        if (!text) return std::unexpected(text.error());
        (std::string(field) == "name" ? update.name : update.description) =
            std::optional<std::string>{*text};
    }
    if (body.contains("client_id")) {
        if (!body["client_id"].is_string())
            return std::unexpected(Response::error(400, "client_id must be a string."));
        auto id = checked_client_id(body["client_id"].get<std::string>());
        if (!id) return std::unexpected(id.error());
        update.client_id = *id;
    }
    return update;
}

Response update_image(ApiContext& context, const Request& request) {
    const auto id = path_id(request);
    if (!id) return Response::error(404, not_found(request.path_params.at(0)));
    auto body = json_object_body(request);
    if (!body) return body.error();
    auto update = parse_update(*body);
    if (!update) return update.error();
    auto connection = context.pool.acquire();
    auto image = catalog::update_image(*connection, *id, *update);
    if (!image) return error_response(image.error());
    if (!*image) return Response::error(404, not_found(request.path_params.at(0)));
    nlohmann::json out = image_json(**image, MediaLinks(context, request));
    out["success"] = true;
    return Response::json(200, out);
}

Response delete_image(ApiContext& context, const Request& request) {
    const auto id = path_id(request);
    if (!id) return Response::error(404, not_found(request.path_params.at(0)));
    auto connection = context.pool.acquire();
    const std::vector<catalog::ImageId> ids{*id};
    auto outcome = freeing_space(context, [&] {
        return catalog::delete_images(*connection, ids, context.clock(),
                                      context.config.restore_window);
    });
    if (!outcome) return error_response(outcome.error());
    if (outcome->deleted_ids.empty())
        return Response::error(404, not_found(request.path_params.at(0)));
    return Response::json(200,
                          {{"success", true},
                           {"message", "Image " + std::to_string(*id) + " deleted successfully."}});
}

Response bulk_delete(ApiContext& context, const Request& request) {
    auto body = json_object_body(request);
    if (!body) return body.error();
    auto ids = parse_image_ids(*body);
    if (!ids) return ids.error();
    auto connection = context.pool.acquire();
    auto outcome = freeing_space(context, [&] {
        return catalog::delete_images(*connection, *ids, context.clock(),
                                      context.config.restore_window);
    });
    if (!outcome) return error_response(outcome.error());
    const std::set<catalog::ImageId> deleted(outcome->deleted_ids.begin(),
                                             outcome->deleted_ids.end());
    nlohmann::json not_found_ids = nlohmann::json::array();
    std::set<catalog::ImageId> reported;
    for (const catalog::ImageId id : *ids) {
        if (!deleted.contains(id) && reported.insert(id).second) not_found_ids.push_back(id);
    }
    const std::size_t count = deleted.size();
    nlohmann::json out{
        {"success", true},
        {"deleted_count", count},
        {"requested_count", ids->size()},
        {"files_queued", outcome->files_queued},
        {"message", "Successfully deleted " + std::to_string(count) + " image" +
                        (count == 1 ? "" : "s") + "; their files are queued for cleanup."}};
    if (!not_found_ids.empty()) out["not_found_ids"] = not_found_ids;
    return Response::json(200, out);
}

Response image_stats(ApiContext& context, const Request&) {
    auto connection = context.pool.acquire();
    auto stats = catalog::stats(*connection, std::nullopt);
    if (!stats) return error_response(stats.error());
    nlohmann::json by_client = nlohmann::json::array();
    for (const auto& c : stats->by_client) {
        by_client.push_back(
            {{"client_id", c.client_id}, {"count", c.count}, {"total_size", c.total_size}});
    }
    return Response::json(200, {{"success", true},
                                {"stats",
                                 {{"total_images", stats->total_images},
                                  {"total_size", stats->total_size},
                                  {"unique_clients", stats->unique_clients},
                                  {"by_client", by_client}}}});
}

}  // namespace

void add_image_routes(Router& router, ApiContext& context) {
    router.add("GET", "/api/list/",
               [&context](const Request& r) { return list_images(context, r); });
    // PATCH as PUT: both change only the fields the body names, as the original's.
    for (const char* method : {"PUT", "PATCH"}) {
        router.add(method, "/api/update/{}/",
                   [&context](const Request& r) { return update_image(context, r); });
    }
    router.add("DELETE", "/api/delete/{}/", idempotent(context, [&context](const Request& r) {
                   return delete_image(context, r);
               }));
    router.add("POST", "/api/bulk-delete/", idempotent(context, [&context](const Request& r) {
                   return bulk_delete(context, r);
               }));
    router.add("GET", "/api/stats/",
               [&context](const Request& r) { return image_stats(context, r); });
}

}  // namespace gallery::api
