// GET /admin/: queue and catalogue totals and the last cleanup runs.

#include "admin/guard.hpp"
#include "gallery/backup/backup.hpp"
#include "gallery/catalog/catalog.hpp"
#include "gallery/cleanup/run_log.hpp"
#include "gallery/queue/queue.hpp"

namespace gallery::admin {
namespace {

std::string card(const std::string& value, const std::string& label) {
    return "<div class=\"card\"><div class=\"value\">" + escape(value) +
           "</div><div class=\"label\">" + escape(label) + "</div></div>";
}

api::Response dashboard(api::ApiContext& context, AdminRequest& request) {
    auto connection = context.pool.acquire();
    const UnixMicros now = context.clock();
    auto held = backup::guard_since(*connection, context.config);
    if (!held) return database_failure(request, held.error());
    auto queue_stats = queue::stats(*connection, now, *held);
    if (!queue_stats) return database_failure(request, queue_stats.error());
    auto catalog_stats = catalog::stats(*connection, 0);
    if (!catalog_stats) return database_failure(request, catalog_stats.error());
    auto runs = cleanup::recent_runs(*connection, 10);
    if (!runs) return database_failure(request, runs.error());

    const std::string oldest =
        queue_stats->oldest_queued
            ? format_duration((now - *queue_stats->oldest_queued) / k_micros_per_second)
            : "none";
    std::string body = "<h1>Dashboard</h1><h2>Deletion queue</h2><div class=\"cards\">" +
                       card(std::to_string(queue_stats->pending), "pending") +
                       card(std::to_string(queue_stats->dead), "dead") +
                       card(std::to_string(queue_stats->leased), "leased (being deleted)") +
                       card(oldest, "oldest pending item's age") +
                       card(format_bytes(queue_stats->bytes_pending), "bytes pending") +
                       card(std::to_string(queue_stats->restorable), "restorable") +
                       card(std::to_string(queue_stats->held_by_backup), "held for a backup") +
                       card(format_bytes(queue_stats->bytes_restorable), "bytes restorable") +
                       "</div><h2>Catalogue</h2><div class=\"cards\">" +
                       card(std::to_string(catalog_stats->total_images), "images") +
                       card(std::to_string(catalog_stats->unique_clients), "clients") +
                       card(format_bytes(catalog_stats->total_size), "stored") + "</div>";
    body += "<h2>Last cleanup runs</h2>";
    if (runs->empty()) {
        body += "<p class=\"muted\">No cleanup has run yet.</p>";
    } else {
        body +=
            "<div class=\"table-wrap\"><table><thead><tr><th>When</th><th>By</th>"
            "<th>Processed</th><th>Deleted</th><th>Failed</th><th>Dead</th>"
            "<th class=\"optional\">Freed</th><th class=\"optional\">Note</th></tr></thead><tbody>";
        for (const auto& run : *runs) {
            body += "<tr><td>" + escape(format_time(run.started_at)) + "</td><td>" +
                    escape(run.trigger) + "</td><td>" + std::to_string(run.processed) +
                    "</td><td>" + std::to_string(run.deleted) + "</td><td>" +
                    std::to_string(run.failed) + "</td><td>" + std::to_string(run.dead) +
                    "</td><td class=\"optional\">" + escape(format_bytes(run.bytes_reclaimed)) +
                    "</td><td class=\"optional\">" +
                    escape(run.stopped_by ? "stopped: " + *run.stopped_by : "") + "</td></tr>";
        }
        body += "</tbody></table></div>";
    }
    return page(200, request.frame("Dashboard", "dashboard"), body);
}

}  // namespace

void add_dashboard_page(AdminRoutes& routes) {
    api::ApiContext& context = routes.context();
    routes.get("/admin/", [&context](AdminRequest& r) { return dashboard(context, r); });
}

}  // namespace gallery::admin
