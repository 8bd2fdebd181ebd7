// POST /api/purge/: ends the restore window of deleted images on purpose, so the next
// cleanup deletes their objects (API.md, "POST /api/purge/").

#include <set>

#include "api/idempotency.hpp"
#include "api/support.hpp"
#include "gallery/queue/deleted_images.hpp"

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
    auto chosen = image_selection(request);
    if (!chosen) return chosen.error();
    const auto selection = chosen->client_id ? queue::ImageSelection::of_client(*chosen->client_id)
                                             : queue::ImageSelection::of_images(*chosen->ids);
    auto connection = context.pool.acquire();
    auto outcome = queue::purge_restorable(*connection, selection, context.clock());
    if (!outcome) return error_response(outcome.error());
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
