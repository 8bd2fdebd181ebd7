// GET /api/clients/, DELETE /api/clients/<client_id>/delete-all/, POST /api/validate-client/.

#include "api/idempotency.hpp"
#include "api/support.hpp"

namespace gallery::api {
namespace {

Response list_clients(ApiContext& context, const Request& request) {
    auto page = page_query(request);
    if (!page) return page.error();
    catalog::ClientQuery query;
    auto search = search_query(request);
    if (!search) return search.error();
    query.search = std::move(*search);
    const std::string sort_by = request.query_value("sort_by").value_or("-count");
    query.sort_by = catalog::is_client_sort_key(sort_by) ? sort_by : "-count";
    query.page = *page;
    auto connection = context.pool.acquire();
    auto result = catalog::list_clients(*connection, query);
    if (!result) return error_response(result.error());
    nlohmann::json clients = nlohmann::json::array();
    for (const auto& c : result->clients) {
        clients.push_back({{"client_id", c.client_id},
                           {"image_count", c.image_count},
                           {"total_size", c.total_size},
                           {"latest_upload", to_iso8601(c.latest_upload)},
                           {"oldest_upload", to_iso8601(c.oldest_upload)}});
    }
    return Response::json(
        200, {{"success", true},
              {"clients", clients},
              {"pagination", pagination_json(*page, result->total_count)},
              {"filters", {{"search", query.search.value_or("")}, {"sort_by", sort_by}}}});
}

Response delete_all(ApiContext& context, const Request& request) {
    auto client_id = checked_client_id(request.path_params.at(0));
    if (!client_id) return client_id.error();
    auto connection = context.pool.acquire();
    auto outcome = freeing_space(context, [&] {
        return catalog::delete_client_images(*connection, *client_id, context.clock(),
                                             context.config.restore_window);
    });
    if (!outcome) return error_response(outcome.error());
    const std::size_t count = outcome->deleted_count;
    if (count == 0) {
        return Response::json(200, {{"success", true},
                                    {"deleted_count", 0},
                                    {"message", "No images found for client_id: " + *client_id}});
    }
    return Response::json(
        200,
        {{"success", true},
         {"client_id", *client_id},
         {"deleted_count", count},
         {"files_queued", outcome->files_queued},
         {"message", "Deleted " + std::to_string(count) + " image" + (count == 1 ? "" : "s") +
                         " of client " + *client_id + "; their files are queued for cleanup."}});
}

// The original's validate-client 400s say "valid": false too; a client reads that field.
Response refused_as_invalid(Response refusal) {
    auto body = nlohmann::json::parse(refusal.body);
    body["valid"] = false;
    return Response::json(refusal.status, body);
}

Response validate_client(ApiContext& context, const Request& request) {
    auto body = json_object_body(request);
    if (!body) return refused_as_invalid(body.error());
    if (!body->contains("client_id") || !(*body)["client_id"].is_string()) {
        return refused_as_invalid(Response::error(400, "client_id is required"));
    }
    auto client_id = checked_client_id((*body)["client_id"].get<std::string>());
    if (!client_id) return refused_as_invalid(client_id.error());
    if (context.clients.accepts(*client_id)) {
        return Response::json(
            200, {{"success", true}, {"valid", true}, {"message", "Client ID is valid"}});
    }
    return Response::json(
        200, {{"success", true},
              {"valid", false},
              {"error", "Invalid client ID. Client ID '" + *client_id + "' is not registered."}});
}

}  // namespace

void add_client_routes(Router& router, ApiContext& context) {
    router.add("GET", "/api/clients/",
               [&context](const Request& r) { return list_clients(context, r); });
    router.add(
        "DELETE", "/api/clients/{}/delete-all/",
        idempotent(context, [&context](const Request& r) { return delete_all(context, r); }));
    router.add("POST", "/api/validate-client/",
               [&context](const Request& r) { return validate_client(context, r); });
}

}  // namespace gallery::api
