#include "gallery/queue/stats_json.hpp"

#include "gallery/common/json_time.hpp"

namespace gallery::queue {

nlohmann::json stats_json(const Stats& stats, UnixMicros now) {
    nlohmann::json by_attempts = nlohmann::json::array();
    for (const AttemptCount& a : stats.by_attempts)
        by_attempts.push_back({{"attempts", a.attempts}, {"count", a.count}});
    nlohmann::json oldest_age = nullptr;
    if (stats.oldest_queued) oldest_age = (now - *stats.oldest_queued) / k_micros_per_second;
    return {{"pending", stats.pending},
            {"dead", stats.dead},
            {"leased", stats.leased},
            {"due", stats.due},
            {"oldest_queued", time_or_null(stats.oldest_queued)},
            {"newest_queued", time_or_null(stats.newest_queued)},
            {"oldest_pending_age_seconds", oldest_age},
            {"by_attempts", by_attempts},
            {"bytes_pending", stats.bytes_pending},
            {"pending_unknown_size", stats.pending_unknown_size},
            {"bytes_dead", stats.bytes_dead},
            {"restorable", stats.restorable},
            {"bytes_restorable", stats.bytes_restorable},
            {"first_window_end", time_or_null(stats.first_window_end)},
            {"held_by_backup", stats.held_by_backup}};
}

}  // namespace gallery::queue
