// GET /admin/deleted ("Recently deleted": the images a restore can still bring back),
// POST /admin/deleted/restore (the selected ones), POST /admin/deleted/purge (the selected
// ones, permanently: "Delete permanently now") and POST /admin/deleted/restore-client
// (every restorable image of one client), through the API's transactional restore.

#include <charconv>

#include "admin/guard.hpp"
#include "gallery/api/api.hpp"
#include "gallery/catalog/catalog.hpp"
#include "gallery/common/variant_key.hpp"
#include "gallery/queue/deleted_images.hpp"

namespace gallery::admin {
namespace {

constexpr std::int64_t k_deleted_per_page = 50;

std::string restorable_for(UnixMicros window_end, UnixMicros now) {
    if (window_end <= now) return "until the next cleanup";
    return format_duration((window_end - now + k_micros_per_second - 1) / k_micros_per_second);
}

api::Response deleted_page(api::ApiContext& context, AdminRequest& request) {
    const std::string client = request.field("client_id");
    auto search_term = search_field(request);
    if (!search_term) return search_term.error();
    const std::string& search = *search_term;
    const std::int64_t current_page = page_number(request);
    queue::RestorableQuery query;
    if (!client.empty()) query.client_id = client;
    if (!search.empty()) query.search = search;
    query.page = current_page;
    query.page_size = k_deleted_per_page;
    auto connection = context.pool.acquire();
    auto deleted = queue::list_restorable(*connection, query);
    if (!deleted) return database_failure(request, deleted.error());
    const UnixMicros now = context.clock();
    const std::string csrf = csrf_field(request.session.csrf_token);

    std::string body = "<h1>Recently deleted <span class=\"muted\">(" +
                       std::to_string(deleted->total_count) + ")</span></h1>";
    if (context.config.restore_window == std::chrono::seconds::zero()) {
        body +=
            "<p class=\"muted\">restore_window is 0: deleted images are not kept restorable. "
            "Set it (for example to 7d) to be able to undo deletes.</p>";
    } else {
        body += "<p class=\"muted\">A deleted image stays restorable for " +
                escape(format_duration(context.config.restore_window.count())) +
                ", then until the next cleanup deletes its file.</p>";
    }
    body +=
        "<form class=\"filters\" method=\"get\" action=\"/admin/deleted\">"
        "<label>Client<input type=\"search\" name=\"client_id\" value=\"" +
        escape(client) +
        "\"></label><label>Search name, file or description<input type=\"search\" name=\"q\" "
        "value=\"" +
        escape(search) +
        "\"></label><button type=\"submit\" class=\"secondary\">Filter</button></form>";
    body += "<form id=\"selection\" method=\"post\" action=\"/admin/deleted/restore\">" + csrf +
            "</form><div class=\"actions\"><label style=\"flex-direction:row;gap:.4rem\">"
            "<input type=\"checkbox\" data-select-all=\"selection\"> Select all on this page"
            "</label><button type=\"submit\" form=\"selection\">Restore selected</button>"
            "<button type=\"submit\" form=\"selection\" class=\"danger\" "
            "formaction=\"/admin/deleted/purge\" data-confirm=\"Delete the selected images "
            "permanently? They cannot be restored afterwards.\">Delete permanently now</button>";
    if (!client.empty()) {
        body +=
            "<form method=\"post\" action=\"/admin/deleted/restore-client\" style=\"margin:0\">" +
            csrf + "<input type=\"hidden\" name=\"client_id\" value=\"" + escape(client) +
            "\"><button type=\"submit\" class=\"secondary\">Restore all of " + escape(client) +
            "</button></form>";
    }
    body += "</div>";
    if (deleted->images.empty()) {
        body += "<p class=\"muted\">Nothing to restore.</p>";
    } else {
        body +=
            "<div class=\"table-wrap\"><table><thead><tr><th>Image</th><th>Client</th>"
            "<th>Bytes</th><th class=\"optional\">Deleted</th><th>Restorable for</th>"
            "</tr></thead><tbody>";
        for (const auto& row : deleted->images) {
            const queue::ImageCopy& image = row.image;
            const std::string title =
                image.name && !image.name->empty() ? *image.name : image.original_filename;
            // The thumbnail made while the image was live, if one was (nothing is made
            // for a deleted image).
            const std::string thumbnail =
                context.config.variants.empty()
                    ? std::string()
                    : "<img src=\"/admin/deleted/" + std::to_string(image.id) +
                          "/thumbnail\" alt=\"\" loading=\"lazy\" width=\"64\">";
            body += "<tr><td>" + thumbnail +
                    "<label style=\"flex-direction:row;gap:.4rem\"><input type=\"checkbox\" "
                    "name=\"id\" form=\"selection\" "
                    "value=\"" +
                    std::to_string(image.id) + "\"> " + escape(title) + " <span class=\"muted\">#" +
                    std::to_string(image.id) + " " + escape(image.original_filename) +
                    "</span></label></td><td>" + escape(image.client_id) + "</td><td>" +
                    escape(format_bytes(image.size)) + "</td><td class=\"optional\">" +
                    escape(format_time(row.deleted_at)) + "</td><td>" +
                    escape(restorable_for(row.window_end, now)) + "</td></tr>";
        }
        body += "</tbody></table></div>";
    }
    body += pager("/admin/deleted", {{"client_id", client}, {"q", search}}, current_page,
                  (deleted->total_count + k_deleted_per_page - 1) / k_deleted_per_page);
    return page(200, request.frame("Recently deleted", "deleted"), body);
}

std::string restored_message(std::size_t restored, std::size_t asked) {
    std::string message = "Restored " + std::to_string(restored) + " image(s).";
    if (restored < asked) {
        message += " " + std::to_string(asked - restored) +
                   " could not be restored any more: a cleanup had taken them.";
    }
    return message;
}

api::Response restore_selected(api::ApiContext& context, AdminRequest& request) {
    auto ids = selected_ids(request);
    if (!ids)
        return request.done("The selection was not understood; nothing changed.", "/admin/deleted");
    if (ids->empty()) return request.done("Select images to restore first.", "/admin/deleted");
    auto connection = context.pool.acquire();
    auto outcome = catalog::restore_images(*connection, *ids);
    if (!outcome) return database_failure(request, outcome.error());
    return request.done(restored_message(outcome->restored_ids.size(), ids->size()),
                        "/admin/deleted");
}

// "Delete permanently now": the window of the selected rows ends; the next cleanup
// deletes their files (queue::purge_restorable).
api::Response purge_selected(api::ApiContext& context, AdminRequest& request) {
    auto ids = selected_ids(request);
    if (!ids)
        return request.done("The selection was not understood; nothing changed.", "/admin/deleted");
    if (ids->empty())
        return request.done("Select images to delete permanently first.", "/admin/deleted");
    const auto selection = queue::ImageSelection::of_images(*ids);
    auto connection = context.pool.acquire();
    auto purged = queue::purge_restorable(*connection, selection, context.clock());
    if (!purged) return database_failure(request, purged.error());
    std::string message = "Deleted " + std::to_string(purged->size()) +
                          " image(s) permanently: the next cleanup deletes their files.";
    if (purged->size() < ids->size()) {
        message += " " + std::to_string(ids->size() - purged->size()) +
                   " were not restorable any more (restored, or taken by a cleanup).";
    }
    return request.done(message, "/admin/deleted");
}

api::Response restore_client(api::ApiContext& context, AdminRequest& request) {
    const std::string client = request.field("client_id");
    if (client.empty())
        return request.done("No client was named; nothing changed.", "/admin/deleted");
    auto connection = context.pool.acquire();
    auto outcome = catalog::restore_client_images(*connection, client);
    if (!outcome) return database_failure(request, outcome.error());
    return request.done("Restored " + std::to_string(outcome->restored_ids.size()) +
                            " image(s) of '" + client + "'.",
                        "/admin/deleted");
}

}  // namespace

// GET /admin/deleted/<id>/thumbnail: a restorable image's first variant, if it was made
// while the image was live; 404 otherwise. Only for a signed-in admin: /media/ answers
// 404 for a deleted image.
api::Response deleted_thumbnail(api::ApiContext& context, AdminRequest& request) {
    const std::string& text = request.request.path_params.at(0);
    std::int64_t id = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (error != std::errc{} || end != text.data() + text.size() || context.config.variants.empty())
        return api::Response::error(404, "Not found.");
    auto connection = context.pool.acquire();
    auto key = queue::restorable_key(*connection, id);
    if (!key) return database_failure(request, key.error());
    if (!*key) return api::Response::error(404, "Not found.");
    const std::string thumbnail =
        variant_key(context.config.variants.front().name, **key, context.config.variant_format);
    auto stored = context.storage.head(thumbnail);
    if (!stored) {
        api::Response failed = api::Response::error(api::http_status_for(stored.error().kind),
                                                    "Storage could not be reached.");
        api::add_retry_after(failed, stored.error());
        return failed;
    }
    if (!*stored) return api::Response::error(404, "Not found.");
    return api::serve_media_object(context, request.request, thumbnail);
}

void add_deleted_pages(AdminRoutes& routes) {
    api::ApiContext& context = routes.context();
    routes.get("/admin/deleted", [&context](AdminRequest& r) { return deleted_page(context, r); });
    routes.get("/admin/deleted/{}/thumbnail",
               [&context](AdminRequest& r) { return deleted_thumbnail(context, r); });
    routes.post("/admin/deleted/restore",
                [&context](AdminRequest& r) { return restore_selected(context, r); });
    routes.post("/admin/deleted/purge",
                [&context](AdminRequest& r) { return purge_selected(context, r); });
    routes.post("/admin/deleted/restore-client",
                [&context](AdminRequest& r) { return restore_client(context, r); });
}

}  // namespace gallery::admin
