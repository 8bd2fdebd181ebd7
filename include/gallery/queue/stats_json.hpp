#pragma once
// queue::Stats as JSON, for `gallery stats --json` and GET /api/cleanup/stats/
// (one shape; the API adds its contract's total_pending beside it).

#include <nlohmann/json.hpp>

#include "gallery/queue/queue.hpp"

namespace gallery::queue {

// {pending, dead, leased, due, oldest_queued, newest_queued (ISO-8601 or null),
//  oldest_pending_age_seconds (null when empty), by_attempts: [{attempts, count}],
//  bytes_pending (pending and restorable), pending_unknown_size, bytes_dead,
//  restorable, bytes_restorable, first_window_end (ISO-8601 or null)}
nlohmann::json stats_json(const Stats& stats, UnixMicros now);

}  // namespace gallery::queue
