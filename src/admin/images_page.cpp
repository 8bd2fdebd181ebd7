// GET /admin/images (a thumbnail grid) and POST /admin/images/delete, which uses
// the API's transactional delete: rows go, files are queued.

#include "admin/guard.hpp"
#include "gallery/api/api.hpp"
#include "gallery/catalog/catalog.hpp"

namespace gallery::admin {
namespace {

constexpr std::int64_t k_images_per_page = 48;

api::Response images_page(api::ApiContext& context, AdminRequest& request) {
    const std::string client = request.field("client_id");
    auto search_term = search_field(request);
    if (!search_term) return search_term.error();
    const std::string& search = *search_term;
    std::string sort = request.field("sort");
    if (!catalog::is_image_sort_key(sort)) sort = "-uploaded_at";
    const std::int64_t current_page = page_number(request);
    catalog::ImageQuery query;
    if (!client.empty()) query.client_id = client;
    if (!search.empty()) query.search = search;
    query.sort_by = sort;
    query.page = {current_page, k_images_per_page};
    auto connection = context.pool.acquire();
    auto images = catalog::list_images(*connection, query);
    if (!images) return database_failure(request, images.error());

    std::string body =
        "<h1>Images <span class=\"muted\">(" + std::to_string(images->total_count) +
        ")</span></h1><form class=\"filters\" method=\"get\" action=\"/admin/images\">"
        "<label>Client<input type=\"search\" name=\"client_id\" value=\"" +
        escape(client) +
        "\"></label><label>Search name, file or description<input type=\"search\" name=\"q\" "
        "value=\"" +
        escape(search) + "\"></label><label>Sort<select name=\"sort\">" +
        select_option("-uploaded_at", "newest first", sort) +
        select_option("uploaded_at", "oldest first", sort) +
        select_option("-size", "largest first", sort) + select_option("name", "name", sort) +
        select_option("client_id", "client", sort) +
        "</select></label><button type=\"submit\" class=\"secondary\">Filter</button></form>";
    body += "<form id=\"selection\" method=\"post\" action=\"/admin/images/delete\">" +
            csrf_field(request.session.csrf_token) +
            "</form><div class=\"actions\"><label style=\"flex-direction:row;gap:.4rem\">"
            "<input type=\"checkbox\" data-select-all=\"selection\"> Select all on this page"
            "</label><button type=\"submit\" form=\"selection\" class=\"danger\" "
            "data-confirm=\"Delete the selected images? Their files will be removed by the next "
            "cleanup.\">Delete selected</button></div>";
    if (images->images.empty()) {
        body += "<p class=\"muted\">No images match.</p>";
    } else {
        body += "<ul class=\"grid\" role=\"list\" style=\"list-style:none;padding:0\">";
        for (const auto& image : images->images) {
            const std::string url = api::image_url(image, context.config);
            const std::string thumbnail = api::thumbnail_url(image, context.config);
            // A name sent empty ("") is kept as "", and titles the tile like no name.
            const std::string title =
                image.name && !image.name->empty() ? *image.name : image.original_filename;
            body += "<li class=\"tile\"><a href=\"" + escape(url) + "\"><img src=\"" +
                    escape(thumbnail) + "\" alt=\"" + escape(title) +
                    "\" loading=\"lazy\"></a><div class=\"meta\"><label><input type=\"checkbox\" "
                    "name=\"id\" form=\"selection\" value=\"" +
                    std::to_string(image.id) + "\"> " + escape(image.original_filename) +
                    "</label><div class=\"muted\">" + escape(image.client_id) + " · " +
                    escape(format_bytes(image.size)) + "<br>" +
                    escape(format_time(image.uploaded_at)) + "</div></div></li>";
        }
        body += "</ul>";
    }
    body += pager("/admin/images", {{"client_id", client}, {"q", search}, {"sort", sort}},
                  current_page, (images->total_count + k_images_per_page - 1) / k_images_per_page);
    return page(200, request.frame("Images", "images"), body);
}

api::Response delete_selected(api::ApiContext& context, AdminRequest& request) {
    auto ids = selected_ids(request);
    if (!ids)
        return request.done("The selection was not understood; nothing changed.", "/admin/images");
    if (ids->empty()) return request.done("Select images to delete first.", "/admin/images");
    auto connection = context.pool.acquire();
    auto outcome =
        catalog::delete_images(*connection, *ids, context.clock(), context.config.restore_window);
    if (!outcome) return database_failure(request, outcome.error());
    return request.done("Deleted " + std::to_string(outcome->deleted_count) +
                            " image(s); their files are queued for cleanup.",
                        "/admin/images");
}

}  // namespace

void add_image_pages(AdminRoutes& routes) {
    api::ApiContext& context = routes.context();
    routes.get("/admin/images", [&context](AdminRequest& r) { return images_page(context, r); });
    routes.post("/admin/images/delete",
                [&context](AdminRequest& r) { return delete_selected(context, r); });
}

}  // namespace gallery::admin
