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
    auto body = json_object_body(request);
    if (!body) return body.error();
    const bool by_ids = body->contains("image_ids");
    const bool by_client = body->contains("client_id");
    if (by_ids == by_client) {
        return Response::error(
            400, by_ids ? "Give either image_ids or client_id, not both."
                        : "Give image_ids (a list of image ids) or client_id (a client's images).");
    }
    const std::chrono::seconds window = context.config.restore_window;
    if (by_client) {
        const auto& field = (*body)["client_id"];
        if (!field.is_string()) return Response::error(400, "client_id must be a string.");
        auto client_id = checked_client_id(field.get<std::string>());
        if (!client_id) return client_id.error();
        auto connection = context.pool.acquire();
        auto outcome = catalog::restore_client_images(*connection, *client_id);
        if (!outcome) return internal_error(outcome.error());
        return restored(*outcome, nlohmann::json::array(), window);
    }
    auto ids = parse_image_ids(*body);
    if (!ids) return ids.error();
    auto connection = context.pool.acquire();
    auto outcome = catalog::restore_images(*connection, *ids);
    if (!outcome) return internal_error(outcome.error());
    const std::set<catalog::ImageId> done(outcome->restored_ids.begin(),
                                          outcome->restored_ids.end());
    nlohmann::json not_restorable = nlohmann::json::array();
    std::set<catalog::ImageId> reported;
    for (const catalog::ImageId id : *ids) {
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
