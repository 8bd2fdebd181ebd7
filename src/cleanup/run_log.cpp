#include "gallery/cleanup/run_log.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include "gallery/common/log.hpp"
#include "gallery/db/guard.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::cleanup {

void record_run(db::Connection& connection, std::string_view trigger, UnixMicros started_at,
                UnixMicros finished_at, const Report& report) {
    auto recorded = db::guard("cleanup: record run", [&] {
        db::WriteTransaction tx(connection);
        SQLite::Statement insert(
            connection.sqlite(),
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
        if (report.stopped_by) {
            insert.bind(9, report.stopped_by->message);
        } else {
            insert.bind(9);
        }
        insert.exec();
        connection.sqlite().exec(
            "DELETE FROM cleanup_runs WHERE id <= (SELECT MAX(id) - 1000 FROM cleanup_runs)");
        tx.commit();
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
    return db::guard("cleanup: recent runs", [&] {
        SQLite::Statement query(
            connection.sqlite(),
            "SELECT started_at, finished_at, trigger, processed, deleted, failed, dead,"
            " bytes_reclaimed, stopped_by FROM cleanup_runs ORDER BY id DESC LIMIT ?");
        query.bind(1, static_cast<std::int64_t>(limit));
        std::vector<RunRecord> runs;
        while (query.executeStep()) {
            RunRecord run;
            run.started_at = query.getColumn(0).getInt64();
            run.finished_at = query.getColumn(1).getInt64();
            run.trigger = query.getColumn(2).getString();
            run.processed = query.getColumn(3).getInt64();
            run.deleted = query.getColumn(4).getInt64();
            run.failed = query.getColumn(5).getInt64();
            run.dead = query.getColumn(6).getInt64();
            run.bytes_reclaimed = static_cast<std::uint64_t>(query.getColumn(7).getInt64());
            if (!query.getColumn(8).isNull()) run.stopped_by = query.getColumn(8).getString();
            runs.push_back(std::move(run));
        }
        return runs;
    });
}

}  // namespace gallery::cleanup
