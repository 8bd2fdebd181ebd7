#include "gallery/cleanup/report_json.hpp"

#include "gallery/common/json_time.hpp"

namespace gallery::cleanup {

nlohmann::json report_json(const Report& report) {
    return {{"success", !report.stopped_by},
            {"processed", report.processed},
            {"deleted", report.deleted},
            {"failed", report.failed},
            {"skipped", report.dead},
            {"dead", report.dead},
            {"skipped_live", report.skipped_live},
            {"remaining_in_queue", report.remaining},
            {"waiting_for_retry", report.waiting_for_retry},
            {"next_attempt_at", time_or_null(report.next_attempt_at)},
            {"restorable", report.restorable},
            {"first_window_end", time_or_null(report.first_window_end)},
            {"bytes_reclaimed", report.bytes_reclaimed},
            {"batches", report.batches},
            {"intents_queued", report.intents_queued},
            {"receipts_pruned", report.receipts_pruned}};
}

}  // namespace gallery::cleanup
