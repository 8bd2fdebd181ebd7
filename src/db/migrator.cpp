#include "gallery/db/migrator.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>

#include "gallery/db/guard.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::db {
namespace {

bool has_migrations_table(SQLite::Database& db) {
    return db.tableExists("schema_migrations");
}

int highest_version(const std::vector<Migration>& migrations) {
    return migrations.empty() ? 0 : migrations.back().version;
}

std::string newer_message(const SchemaStatus& status) {
    return "the database schema is at version " + std::to_string(status.database_version) +
           ", newer than this binary knows (" + std::to_string(status.binary_version) +
           "): use a newer gallery binary";
}

}  // namespace

Result<SchemaStatus> schema_status(Connection& connection,
                                   const std::vector<Migration>& migrations) {
    return guard("read schema status", [&] {
        SQLite::Database& db = connection.sqlite();
        SchemaStatus status;
        status.binary_version = highest_version(migrations);
        std::vector<std::pair<int, UnixMicros>> applied;
        if (has_migrations_table(db)) {
            SQLite::Statement query(
                db, "SELECT version, applied_at FROM schema_migrations ORDER BY version");
            while (query.executeStep()) {
                applied.emplace_back(query.getColumn(0).getInt(), query.getColumn(1).getInt64());
            }
        }
        for (const auto& [version, at] : applied)
            status.database_version = std::max(status.database_version, version);
        for (const Migration& migration : migrations) {
            MigrationState state{migration.version, migration.name, std::nullopt};
            const auto found =
                std::ranges::find(applied, migration.version, &std::pair<int, UnixMicros>::first);
            if (found != applied.end()) state.applied_at = found->second;
            status.migrations.push_back(std::move(state));
        }
        return status;
    });
}

Result<int> migrate(Connection& connection, const std::vector<Migration>& migrations,
                    UnixMicros now) {
    auto status = schema_status(connection, migrations);
    if (!status) return std::unexpected(status.error());
    if (status->newer_than_binary()) return fail(ErrorKind::invalid_input, newer_message(*status));

    return guard("migrate", [&] {
        SQLite::Database& db = connection.sqlite();
        db.exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL,"
            " applied_at INTEGER NOT NULL)");
        int applied = 0;
        for (const Migration& migration : migrations) {
            WriteTransaction tx(connection);
            // Checked again inside the write lock: a concurrent migrate may have applied it.
            SQLite::Statement exists(db, "SELECT 1 FROM schema_migrations WHERE version = ?");
            exists.bind(1, migration.version);
            if (exists.executeStep()) continue;
            db.exec(migration.sql);
            SQLite::Statement record(
                db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
            record.bind(1, migration.version);
            record.bind(2, migration.name);
            record.bind(3, now);
            record.exec();
            tx.commit();
            ++applied;
        }
        return applied;
    });
}

void require_current_schema(Connection& connection) {
    auto status = schema_status(connection, embedded_migrations());
    if (!status) throw StartupError(exit_code::failure, status.error().message);
    if (status->newer_than_binary()) throw StartupError(exit_code::failure, newer_message(*status));
    if (!status->current()) {
        throw StartupError(exit_code::failure,
                           "the database " + connection.path().string() + " is at schema version " +
                               std::to_string(status->database_version) + ", this binary needs " +
                               std::to_string(status->binary_version) + ": run `gallery migrate`");
    }
}

}  // namespace gallery::db
