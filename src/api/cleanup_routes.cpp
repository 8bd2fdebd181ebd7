// POST /api/cleanup/run/ and GET /api/cleanup/stats/: the same cleaner and
// leases as `gallery cleanup`, so a request can overlap a cron run safely.

#include "api/support.hpp"
#include "gallery/api/cleanup_runner.hpp"
#include "gallery/backup/backup.hpp"
#include "gallery/cleanup/cleaner.hpp"
#include "gallery/cleanup/report_json.hpp"
#include "gallery/common/log.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/queue/stats_json.hpp"

namespace gallery::api {
namespace {

Response run_cleanup(ApiContext& context, const Request& request) {
    auto batch_size = int_query(request, "batch_size", 100, 1);
    if (!batch_size) return batch_size.error();
    auto max_attempts = int_query(request, "max_attempts", 3, 1);
    if (!max_attempts) return max_attempts.error();
    cleanup::Options options = cleanup::options_from(context.config);
    options.batch_size =
        static_cast<std::size_t>(std::min<std::int64_t>(*batch_size, cleanup::k_max_batch_size));
    options.max_attempts = static_cast<int>(std::min<std::int64_t>(*max_attempts, 1000));
    options.whole_request_retries = 0;  // a request must not sleep: report and let the caller retry
    const RequestedRun run = run_cleanup_for_request(context, options, "api");
    if (!run.started) {
        return overloaded(
            "Cleanup runs started by earlier requests are still going; try again in a minute.",
            std::chrono::seconds{60});
    }
    if (!run.report) {
        const auto budget_ms = context.config.cleanup_request_budget.count();
        return Response::json(202, {{"success", true},
                                    {"still_running", true},
                                    {"message", "Cleanup is still running after the request's " +
                                                    std::to_string(budget_ms / 1000) + "." +
                                                    std::to_string(budget_ms % 1000 / 100) +
                                                    " s budget; it goes on in the background (see "
                                                    "/api/cleanup/stats/)."}});
    }
    const cleanup::Report& report = *run.report;
    nlohmann::json out = cleanup::report_json(report);
    out["message"] = "Processed " + std::to_string(report.processed) + " queued file" +
                     (report.processed == 1 ? "" : "s") + ": " + std::to_string(report.deleted) +
                     " deleted, " + std::to_string(report.failed) + " failed, " +
                     std::to_string(report.dead) + " gave up (dead).";
    if (report.stopped_by) {
        const Error& error = *report.stopped_by;
        log::error("cleanup/run: " + error.message);
        // Storage messages carry no secrets and help the caller; database ones stay in the log.
        out["error"] = error.kind == ErrorKind::database_unavailable
                           ? "Cleanup stopped early: the database is unavailable."
                       : error.kind == ErrorKind::database
                           ? "Cleanup stopped early: database failure (see the server log)."
                           : "Cleanup stopped early: " + error.message;
        Response stopped = Response::json(503, out);
        add_retry_after(stopped, error);
        return stopped;
    }
    return Response::json(200, out);
}

Response cleanup_stats(ApiContext& context, const Request&) {
    auto connection = context.pool.acquire();
    const UnixMicros now = context.clock();
    auto held = backup::guard_since(*connection, context.config);
    if (!held) return error_response(held.error());
    auto stats = queue::stats(*connection, now, *held);
    if (!stats) return error_response(stats.error());
    nlohmann::json body = queue::stats_json(*stats, now);
    // The original's name: every queued row, i.e. every object the queue still holds
    // (a script that waits for 0 waits until storage is clean). The parts are named.
    body["total_pending"] = stats->pending + stats->restorable + stats->dead;
    body["total_pending_parts"] = {{"pending", stats->pending - stats->held_by_backup},
                                   {"held_by_backup", stats->held_by_backup},
                                   {"restorable", stats->restorable},
                                   {"dead", stats->dead}};
    return Response::json(200, {{"success", true}, {"stats", body}});
}

}  // namespace

void add_cleanup_routes(Router& router, ApiContext& context) {
    router.add("POST", "/api/cleanup/run/",
               [&context](const Request& r) { return run_cleanup(context, r); });
    router.add("GET", "/api/cleanup/stats/",
               [&context](const Request& r) { return cleanup_stats(context, r); });
}

}  // namespace gallery::api
