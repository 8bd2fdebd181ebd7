// POST /api/restore/: brings back deleted images whose objects are still queued
// restorable (the restore window). API.md, "POST /api/restore/".

#include <set>

#include "api/idempotency.hpp"
#include "api/support.hpp"

namespace gallery::api {
namespace {

Response restored(const catalog::RestoreOutcome& outcome, nlohmann::json not_restorable,
                  std::chrono::seconds restore_window) {
    const std::size_t count = outcome.restored_ids.size();
    std::string message =
        "Restored " + std::to_string(count) + " image" + (count == 1 ? "" : "s") + ".";
    if (count == 0 && restore_window == std::chrono::seconds::zero())
        message += " restore_window is 0 on this server: deleted images are not kept restorable.";
    return Response::json(200, {{"success", true},
                                {"restored_count", count},
                                {"restored_ids", outcome.restored_ids},
                                {"not_restorable_ids", std::move(not_restorable)},
                                {"message", message}});
}

Response restore(ApiContext& context, const Request& request) {
    auto selection = image_selection(request);
    if (!selection) return selection.error();
    const std::chrono::seconds window = context.config.restore_window;
    auto connection = context.pool.acquire();
    if (selection->client_id) {
        auto outcome = catalog::restore_client_images(*connection, *selection->client_id);
        if (!outcome) return error_response(outcome.error());
        return restored(*outcome, nlohmann::json::array(), window);
    }
    const std::vector<catalog::ImageId>& ids = *selection->ids;
    auto outcome = catalog::restore_images(*connection, ids);
    if (!outcome) return error_response(outcome.error());
    const std::set<catalog::ImageId> done(outcome->restored_ids.begin(),
                                          outcome->restored_ids.end());
    nlohmann::json not_restorable = nlohmann::json::array();
    std::set<catalog::ImageId> reported;
    for (const catalog::ImageId id : ids) {
        if (!done.contains(id) && reported.insert(id).second) not_restorable.push_back(id);
    }
    return restored(*outcome, std::move(not_restorable), window);
}

}  // namespace

void add_restore_route(Router& router, ApiContext& context) {
    router.add("POST", "/api/restore/",
               idempotent(context, [&context](const Request& r) { return restore(context, r); }));
}

}  // namespace gallery::api
