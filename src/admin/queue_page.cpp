// GET /admin/queue and its actions: retry, remove, run one cleanup batch.

#include <charconv>

#include "admin/guard.hpp"
#include "gallery/api/cleanup_runner.hpp"
#include "gallery/cleanup/cleaner.hpp"
#include "gallery/queue/browse.hpp"

namespace gallery::admin {
namespace {

constexpr std::size_t k_queue_rows_per_page = 50;
constexpr std::size_t k_error_preview = 80;

queue::StateFilter state_filter(const std::string& text) {
    if (text == "pending") return queue::StateFilter::pending;
    if (text == "leased") return queue::StateFilter::leased;
    if (text == "dead") return queue::StateFilter::dead;
    if (text == "restorable") return queue::StateFilter::restorable;
    return queue::StateFilter::all;
}

queue::QueueSort queue_sort(const std::string& text) {
    if (text == "oldest") return queue::QueueSort::oldest;
    if (text == "attempts") return queue::QueueSort::most_attempts;
    return queue::QueueSort::newest;
}

// "<value>_<id>", as written by the next-page link.
std::optional<std::pair<std::int64_t, std::int64_t>> parse_cursor(const std::string& text) {
    const auto separator = text.find('_');
    if (separator == std::string::npos) return std::nullopt;
    std::int64_t value = 0;
    std::int64_t id = 0;
    const char* begin = text.data();
    if (std::from_chars(begin, begin + separator, value).ptr != begin + separator)
        return std::nullopt;
    const char* end = begin + text.size();
    if (std::from_chars(begin + separator + 1, end, id).ptr != end) return std::nullopt;
    return std::pair{value, id};
}

std::string error_cell(const std::optional<std::string>& error) {
    if (!error) return "";
    if (error->size() <= k_error_preview) return escape(*error);
    return "<details><summary>" + escape(error->substr(0, k_error_preview)) + "…</summary>" +
           escape(*error) + "</details>";
}

api::Response queue_page(api::ApiContext& context, AdminRequest& request) {
    const std::string state = request.field("state");
    const std::string sort = request.field("sort");
    auto search_term = search_field(request);
    if (!search_term) return search_term.error();
    const std::string& search = *search_term;
    const std::string min_attempts_text = request.field("min_attempts");
    queue::BrowseQuery query;
    query.state = state_filter(state);
    query.sort = queue_sort(sort);
    query.page_size = k_queue_rows_per_page;
    if (!search.empty()) query.search = search;
    int min_attempts = 0;
    if (!min_attempts_text.empty()) {
        const char* end = min_attempts_text.data() + min_attempts_text.size();
        if (std::from_chars(min_attempts_text.data(), end, min_attempts).ptr != end ||
            min_attempts < 0) {
            min_attempts = 0;
        }
    }
    query.min_attempts = min_attempts;
    query.after = parse_cursor(request.field("after"));

    auto connection = context.pool.acquire();
    auto rows = queue::browse(*connection, query, context.clock());
    if (!rows) return database_failure(request, rows.error());

    const std::vector<std::pair<std::string, std::string>> filters{
        {"state", state}, {"sort", sort}, {"q", search}, {"min_attempts", min_attempts_text}};
    const std::string csrf = csrf_field(request.session.csrf_token);
    std::string body =
        "<h1>Deletion queue</h1><form class=\"filters\" method=\"get\" action=\"/admin/queue\">"
        "<label>State<select name=\"state\">" +
        select_option("", "all", state) + select_option("pending", "pending", state) +
        select_option("leased", "leased", state) +
        select_option("restorable", "restorable", state) + select_option("dead", "dead", state) +
        "</select></label><label>Attempts at least<input type=\"number\" min=\"0\" "
        "name=\"min_attempts\" value=\"" +
        escape(min_attempts_text) +
        "\"></label><label>Search path or client<input type=\"search\" name=\"q\" value=\"" +
        escape(search) + "\"></label><label>Sort<select name=\"sort\">" +
        select_option("", "newest first", sort) + select_option("oldest", "oldest first", sort) +
        select_option("attempts", "most attempts", sort) +
        "</select></label><button type=\"submit\" class=\"secondary\">Filter</button></form>";

    body += "<div class=\"actions\"><form method=\"post\" action=\"/admin/queue/run\">" + csrf +
            "<button type=\"submit\">Run one cleanup batch now</button></form>"
            "<form method=\"post\" action=\"/admin/queue/retry\">" +
            csrf +
            "<input type=\"hidden\" name=\"all\" value=\"1\"><button type=\"submit\" "
            "class=\"secondary\">Retry all dead items</button></form></div>";

    body += "<form id=\"selection\" method=\"post\" action=\"/admin/queue/retry\">" + csrf +
            "</form><div class=\"actions\"><button type=\"submit\" form=\"selection\" "
            "class=\"secondary\">Retry selected</button><button type=\"submit\" "
            "form=\"selection\" class=\"danger\" formaction=\"/admin/queue/remove\" "
            "data-confirm=\"Remove the selected items from the queue? Their files will then "
            "stay in storage.\">Remove selected from queue</button></div>";
    if (rows->rows.empty()) {
        body += "<p class=\"muted\">No queued items match.</p>";
    } else {
        body +=
            "<div class=\"table-wrap\"><table><thead><tr><th><input type=\"checkbox\" "
            "data-select-all=\"selection\" aria-label=\"Select all\"></th><th>State</th>"
            "<th>Attempts</th><th>File path</th><th>Client</th><th class=\"optional\">Queued "
            "at</th>"
            "<th class=\"optional\">Next attempt</th><th>Last error</th></tr></thead><tbody>";
        for (const auto& row : rows->rows) {
            const std::string id = std::to_string(row.id);
            body += "<tr><td><input type=\"checkbox\" name=\"id\" value=\"" + id +
                    "\" form=\"selection\" aria-label=\"Select " + escape(row.key) +
                    "\"></td><td class=\"state-" + row.state + "\">" + row.state + "</td><td>" +
                    std::to_string(row.attempts) + "</td><td class=\"key\">" + escape(row.key) +
                    "</td><td>" + escape(row.client_id) + "</td><td class=\"optional\">" +
                    escape(format_time(row.queued_at)) + "</td><td class=\"optional\">" +
                    (row.state == "dead" ? "—" : escape(format_time(row.next_attempt_at))) +
                    "</td><td>" + error_cell(row.last_error) + "</td></tr>";
        }
        body += "</tbody></table></div>";
    }
    body += "<nav class=\"pager\" aria-label=\"Pages\">";
    if (query.after) body += "<a href=\"/admin/queue" + query_string(filters) + "\">First page</a>";
    if (rows->has_more) {
        auto next = filters;
        const auto& last = rows->rows.back();
        next.emplace_back("after", std::to_string(last.sort_value) + "_" + std::to_string(last.id));
        body += "<a href=\"/admin/queue" + query_string(next) + "\" rel=\"next\">Next page</a>";
    }
    body += "</nav>";
    return page(200, request.frame("Deletion queue", "queue"), body);
}

api::Response retry(api::ApiContext& context, AdminRequest& request) {
    auto connection = context.pool.acquire();
    Result<std::size_t> retried = 0;
    if (request.field("all") == "1") {
        retried = queue::retry_dead(*connection, context.clock());
    } else {
        auto ids = selected_ids(request);
        if (!ids)
            return request.done("The selection was not understood; nothing changed.",
                                "/admin/queue");
        if (ids->empty()) return request.done("Select items to retry first.", "/admin/queue");
        retried = queue::retry_selected(*connection, *ids, context.clock());
    }
    if (!retried) return database_failure(request, retried.error());
    return request.done("Requeued " + std::to_string(*retried) +
                            " dead item(s); they will be deleted by the next cleanup.",
                        "/admin/queue");
}

api::Response remove(api::ApiContext& context, AdminRequest& request) {
    auto ids = selected_ids(request);
    if (!ids)
        return request.done("The selection was not understood; nothing changed.", "/admin/queue");
    if (ids->empty()) return request.done("Select items to remove first.", "/admin/queue");
    auto connection = context.pool.acquire();
    auto removed = queue::remove_selected(*connection, *ids, context.clock());
    if (!removed) return database_failure(request, removed.error());
    std::string message = "Removed " + std::to_string(*removed) +
                          " item(s) from the queue; their files stay in storage.";
    if (*removed < ids->size()) message += " Items being deleted right now were left alone.";
    return request.done(message, "/admin/queue");
}

api::Response run_batch(api::ApiContext& context, AdminRequest& request) {
    cleanup::Options options = cleanup::options_from(context.config);
    options.whole_request_retries = 0;  // a page must not sleep: report and let the person retry
    const api::RequestedRun run = api::run_cleanup_for_request(context, options, "admin");
    if (!run.started) {
        return request.done("Cleanup runs started earlier are still going; try again in a minute.",
                            "/admin/queue");
    }
    if (!run.report) {
        return request.done(
            "The cleanup batch is still running (storage is slow); it goes on "
            "in the background. Reload this page to see its progress.",
            "/admin/queue");
    }
    const cleanup::Report& report = *run.report;
    std::string message = "Cleanup batch: processed " + std::to_string(report.processed) +
                          ", deleted " + std::to_string(report.deleted) + ", failed " +
                          std::to_string(report.failed) + ", dead " + std::to_string(report.dead) +
                          ", " + std::to_string(report.remaining) + " still pending.";
    if (report.stopped_by) message += " Stopped early: " + report.stopped_by->message;
    return request.done(message, "/admin/queue");
}

}  // namespace

void add_queue_pages(AdminRoutes& routes) {
    api::ApiContext& context = routes.context();
    routes.get("/admin/queue", [&context](AdminRequest& r) { return queue_page(context, r); });
    routes.post("/admin/queue/retry", [&context](AdminRequest& r) { return retry(context, r); });
    routes.post("/admin/queue/remove", [&context](AdminRequest& r) { return remove(context, r); });
    routes.post("/admin/queue/run", [&context](AdminRequest& r) { return run_batch(context, r); });
}

}  // namespace gallery::admin
