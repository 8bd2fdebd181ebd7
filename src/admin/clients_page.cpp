// GET /admin/clients and POST /admin/clients/delete-all (after typing the client id).

#include "admin/guard.hpp"
#include "gallery/catalog/catalog.hpp"

namespace gallery::admin {
namespace {

constexpr std::int64_t k_clients_per_page = 50;

api::Response clients_page(api::ApiContext& context, AdminRequest& request) {
    auto search_term = search_field(request);
    if (!search_term) return search_term.error();
    const std::string& search = *search_term;
    const std::int64_t current_page = page_number(request);
    catalog::ClientQuery query;
    if (!search.empty()) query.search = search;
    query.page = {current_page, k_clients_per_page};
    auto connection = context.pool.acquire();
    auto clients = catalog::list_clients(*connection, query);
    if (!clients) return database_failure(request, clients.error());

    const std::string csrf = csrf_field(request.session.csrf_token);
    std::string body =
        "<h1>Clients <span class=\"muted\">(" + std::to_string(clients->total_count) +
        ")</span></h1><form class=\"filters\" method=\"get\" action=\"/admin/clients\">"
        "<label>Search client id<input type=\"search\" name=\"q\" value=\"" +
        escape(search) +
        "\"></label><button type=\"submit\" class=\"secondary\">Filter</button></form>";
    if (clients->clients.empty()) {
        body += "<p class=\"muted\">No clients match.</p>";
    } else {
        body +=
            "<div class=\"table-wrap\"><table><thead><tr><th>Client</th><th>Images</th>"
            "<th>Bytes</th><th class=\"optional\">Latest upload</th><th>Delete all images</th>"
            "</tr></thead><tbody>";
        for (const auto& client : clients->clients) {
            const std::string id = escape(client.client_id);
            body += "<tr><td>" + id + "</td><td>" + std::to_string(client.image_count) +
                    "</td><td>" + escape(format_bytes(client.total_size)) +
                    "</td><td class=\"optional\">" + escape(format_time(client.latest_upload)) +
                    "</td><td><form method=\"post\" action=\"/admin/clients/delete-all\" "
                    "class=\"actions\" style=\"margin:0\">" +
                    csrf + "<input type=\"hidden\" name=\"client_id\" value=\"" + id +
                    "\"><input name=\"confirm_client_id\" placeholder=\"type " + id +
                    " to confirm\" aria-label=\"Type " + id +
                    " to confirm\" autocomplete=\"off\" required><button type=\"submit\" "
                    "class=\"danger\">Delete all</button></form></td></tr>";
        }
        body += "</tbody></table></div>";
    }
    const std::int64_t pages = (clients->total_count + k_clients_per_page - 1) / k_clients_per_page;
    body += "<nav class=\"pager\" aria-label=\"Pages\">";
    if (current_page > 1) {
        body += "<a href=\"/admin/clients" +
                query_string({{"q", search}, {"page", std::to_string(current_page - 1)}}) +
                "\" rel=\"prev\">Previous</a>";
    }
    if (current_page < pages) {
        body += "<a href=\"/admin/clients" +
                query_string({{"q", search}, {"page", std::to_string(current_page + 1)}}) +
                "\" rel=\"next\">Next</a>";
    }
    body += "</nav>";
    return page(200, request.frame("Clients", "clients"), body);
}

api::Response delete_all(api::ApiContext& context, AdminRequest& request) {
    const std::string client = request.field("client_id");
    if (client.empty())
        return request.done("No client was named; nothing changed.", "/admin/clients");
    if (request.field("confirm_client_id") != client) {
        return request.done(
            "The typed client id did not match '" + client + "'; nothing was deleted.",
            "/admin/clients");
    }
    auto connection = context.pool.acquire();
    auto outcome = catalog::delete_client_images(*connection, client, context.clock(),
                                                 context.config.restore_window);
    if (!outcome) return database_failure(request, outcome.error());
    return request.done("Deleted " + std::to_string(outcome->deleted_count) + " image(s) of '" +
                            client + "'; their files are queued for cleanup.",
                        "/admin/clients");
}

}  // namespace

void add_client_pages(AdminRoutes& routes) {
    api::ApiContext& context = routes.context();
    routes.get("/admin/clients", [&context](AdminRequest& r) { return clients_page(context, r); });
    routes.post("/admin/clients/delete-all",
                [&context](AdminRequest& r) { return delete_all(context, r); });
}

}  // namespace gallery::admin
