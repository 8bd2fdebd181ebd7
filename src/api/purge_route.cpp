// POST /api/purge/: ends the restore window of deleted images on purpose, so the next
// cleanup deletes their objects (API.md, "POST /api/purge/").

#include <set>

#include "api/idempotency.hpp"
#include "api/support.hpp"
#include "gallery/queue/queue.hpp"

namespace gallery::api {
namespace {

Response purged(const std::vector<std::int64_t>& purged_ids, nlohmann::json not_restorable) {
    const std::size_t count = purged_ids.size();
    return Response::json(
        200, {{"success", true},
              {"purged_count", count},
              {"purged_ids", purged_ids},
              {"not_restorable_ids", std::move(not_restorable)},
              {"message", "Purged " + std::to_string(count) + " deleted image" +
                              (count == 1 ? "" : "s") +
                              ": no longer restorable; the next cleanup deletes the files."}});
}

Response purge(ApiContext& context, const Request& request) {
    auto body = json_object_body(request);
    if (!body) return body.error();
    const bool by_ids = body->contains("image_ids");
    const bool by_client = body->contains("client_id");
    if (by_ids == by_client) {
        return Response::error(
            400, by_ids ? "Give either image_ids or client_id, not both."
                        : "Give image_ids (a list of image ids) or client_id (a client's images).");
    }
    queue::PurgeSelection selection;
    if (by_client) {
        const auto& field = (*body)["client_id"];
        if (!field.is_string()) return Response::error(400, "client_id must be a string.");
        auto client_id = checked_client_id(field.get<std::string>());
        if (!client_id) return client_id.error();
        selection.scope = queue::PurgeSelection::Scope::client;
        selection.client_id = *client_id;
    } else {
        auto ids = parse_image_ids(*body);
        if (!ids) return ids.error();
        selection.image_ids.assign(ids->begin(), ids->end());
    }
    auto connection = context.pool.acquire();
    auto outcome = queue::purge_restorable(*connection, selection, context.clock());
    if (!outcome) return internal_error(outcome.error());
    nlohmann::json not_restorable = nlohmann::json::array();
    const std::set<std::int64_t> done(outcome->begin(), outcome->end());
    std::set<std::int64_t> reported;
    for (const std::int64_t id : selection.image_ids) {
        if (!done.contains(id) && reported.insert(id).second) not_restorable.push_back(id);
    }
    return purged(*outcome, std::move(not_restorable));
}

}  // namespace

void add_purge_route(Router& router, ApiContext& context) {
    router.add("POST", "/api/purge/",
               idempotent(context, [&context](const Request& r) { return purge(context, r); }));
}

}  // namespace gallery::api
