#pragma once
// A record of cleanup runs (table cleanup_runs), shown on the admin dashboard.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gallery/cleanup/cleaner.hpp"

namespace gallery::cleanup {

struct RunRecord {
    UnixMicros started_at = 0;
    UnixMicros finished_at = 0;
    std::string trigger;  // cron, api, admin, scheduler
    std::int64_t processed = 0;
    std::int64_t deleted = 0;
    std::int64_t failed = 0;
    std::int64_t dead = 0;
    std::uint64_t bytes_reclaimed = 0;
    std::optional<std::string> stopped_by;
};

// Records the run. Best effort: a run that cannot be recorded is logged, never
// failed. Keeps the newest 1000 records.
void record_run(db::Connection& connection, std::string_view trigger, UnixMicros started_at,
                UnixMicros finished_at, const Report& report);

// The run's log line: "cleanup run" with trigger, counts, bytes and duration (warn
// when it stopped early). The server logs every run; `gallery cleanup` prints its
// own summary on stdout instead, so a cron job stays quiet on stderr.
void log_run(std::string_view trigger, UnixMicros started_at, UnixMicros finished_at,
             const Report& report);

// Newest first.
Result<std::vector<RunRecord>> recent_runs(db::Connection& connection, std::size_t limit);

}  // namespace gallery::cleanup

namespace gallery::cleanup {

struct TimedRun {
    Report report;
    UnixMicros started_at = 0;
    UnixMicros finished_at = 0;
};

// Whether a finished run also writes its "cleanup run" log line (see log_run).
enum class RunLogLine { write, skip };

// The one way a cleaner is run, whoever runs it (cron, the scheduler, a request):
// runs `cleaner` once, times it with `clock`, records it in cleanup_runs and, with
// RunLogLine::write, logs it. `on_batch` sees the running totals.
TimedRun run_and_record(Cleaner& cleaner, db::Connection& connection, std::string_view trigger,
                        const Clock& clock, RunLogLine log_line,
                        const std::function<void(const Report&)>& on_batch = {});

}  // namespace gallery::cleanup
