#include "gallery/cleanup/run_log.hpp"

#include "gallery/db/statement.hpp"

#include "gallery/common/log.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::cleanup {

void record_run(db::Connection& connection, std::string_view trigger, UnixMicros started_at,
                UnixMicros finished_at, const Report& report) {
    auto recorded = db::write(connection, "cleanup: record run", [&] {
        db::Statement insert(
            connection,
            "INSERT INTO cleanup_runs (started_at, finished_at, trigger, processed, deleted,"
            " failed, dead, bytes_reclaimed, stopped_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        insert.bind(1, started_at);
        insert.bind(2, finished_at);
        insert.bind(3, std::string(trigger));
        insert.bind(4, report.processed);
        insert.bind(5, report.deleted);
        insert.bind(6, report.failed);
        insert.bind(7, report.dead);
        insert.bind(8, static_cast<std::int64_t>(report.bytes_reclaimed));
        insert.bind(9,
                    report.stopped_by ? std::optional(report.stopped_by->message) : std::nullopt);
        insert.execute();
        db::execute_script(
            connection,
            "DELETE FROM cleanup_runs WHERE id <= (SELECT MAX(id) - 1000 FROM cleanup_runs)");
    });
    if (!recorded) log::warn(recorded.error().message);
}

void log_run(std::string_view trigger, UnixMicros started_at, UnixMicros finished_at,
             const Report& report) {
    log::write(report.stopped_by ? log::Level::warn : log::Level::info, "cleanup run",
               {{"trigger", std::string(trigger)},
                {"processed", report.processed},
                {"deleted", report.deleted},
                {"failed", report.failed},
                {"dead", report.dead},
                {"remaining", report.remaining},
                {"bytes", static_cast<std::int64_t>(report.bytes_reclaimed)},
                {"duration_ms", static_cast<double>(finished_at - started_at) / 1000.0},
                {"stopped_by", report.stopped_by ? report.stopped_by->message : std::string()}});
}

Result<std::vector<RunRecord>> recent_runs(db::Connection& connection, std::size_t limit) {
    return db::read("cleanup: recent runs", [&] {
        db::Statement query(
            connection,
            "SELECT started_at, finished_at, trigger, processed, deleted, failed, dead,"
            " bytes_reclaimed, stopped_by FROM cleanup_runs ORDER BY id DESC LIMIT ?");
        query.bind(1, static_cast<std::int64_t>(limit));
        std::vector<RunRecord> runs;
        while (query.step()) {
            RunRecord run;
            run.started_at = query.int64(0);
            run.finished_at = query.int64(1);
            run.trigger = query.text(2);
            run.processed = query.int64(3);
            run.deleted = query.int64(4);
            run.failed = query.int64(5);
            run.dead = query.int64(6);
            run.bytes_reclaimed = static_cast<std::uint64_t>(query.int64(7));
            if (!query.is_null(8)) run.stopped_by = query.text(8);
            runs.push_back(std::move(run));
        }
        return runs;
    });
}

}  // namespace gallery::cleanup

namespace gallery::cleanup {

TimedRun run_and_record(Cleaner& cleaner, db::Connection& connection, std::string_view trigger,
                        const Clock& clock, RunLogLine log_line,
                        const std::function<void(const Report&)>& on_batch) {
    TimedRun run;
    run.started_at = clock();
    run.report = cleaner.run(on_batch);
    run.finished_at = clock();
    record_run(connection, trigger, run.started_at, run.finished_at, run.report);
    if (log_line == RunLogLine::write)
        log_run(trigger, run.started_at, run.finished_at, run.report);
    return run;
}

}  // namespace gallery::cleanup
