#include "gallery/db/migrator.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

#include "db/native.hpp"
#include "gallery/db/statement.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::db {
namespace {

bool has_migrations_table(Connection& connection) {
    return connection.native().has_table("schema_migrations");
}

// Any fixed number: the key of the advisory lock every `gallery migrate` takes.
constexpr std::string_view k_migrate_lock = "7316021930475412001";

// PostgreSQL: one migrate at a time across every host (session lock, released when
// this object goes or the connection drops).
class MigrationLock {
  public:
    explicit MigrationLock(Connection& connection) : m_connection(connection) {
        if (m_connection.engine() != Engine::postgresql) return;
        execute_script(m_connection,
                       "SELECT pg_advisory_lock(" + std::string(k_migrate_lock) + ")");
        m_held = true;
    }
    ~MigrationLock() {
        if (!m_held) return;
        try {
            execute_script(m_connection,
                           "SELECT pg_advisory_unlock(" + std::string(k_migrate_lock) + ")");
        } catch (...) {
            // The server releases a session's locks when its connection ends.
        }
    }
    MigrationLock(const MigrationLock&) = delete;
    MigrationLock& operator=(const MigrationLock&) = delete;

  private:
    Connection& m_connection;
    bool m_held = false;
};

std::string_view migrations_table_sql(Engine engine) {
    return engine == Engine::postgresql ? "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                          " version INTEGER PRIMARY KEY,"
                                          " name TEXT NOT NULL,"
                                          " applied_at BIGINT NOT NULL)"
                                        : "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                          " version INTEGER PRIMARY KEY,"
                                          " name TEXT NOT NULL,"
                                          " applied_at INTEGER NOT NULL)";
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
    return read("read schema status", [&] {
        SchemaStatus status;
        status.binary_version = highest_version(migrations);
        std::vector<std::pair<int, UnixMicros>> applied;
        if (has_migrations_table(connection)) {
            Statement query(connection,
                            "SELECT version, applied_at FROM schema_migrations ORDER BY version");
            while (query.step()) {
                applied.emplace_back(static_cast<int>(query.int64(0)), query.int64(1));
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
    auto locked = read("migrate: take the migration lock", [&] {
        auto lock = std::make_unique<MigrationLock>(connection);
        if (connection.engine() == Engine::postgresql)
            execute_script(connection, "CREATE SCHEMA IF NOT EXISTS gallery");
        return lock;
    });
    if (!locked) return std::unexpected(locked.error());
    auto status = schema_status(connection, migrations);
    if (!status) return std::unexpected(status.error());
    // Exit code 1, as for every command that finds a newer schema (README, "Exit codes").
    if (status->newer_than_binary()) return fail(ErrorKind::database, newer_message(*status));

    return read("migrate", [&]() -> Result<int> {
        execute_script(connection, migrations_table_sql(connection.engine()));
        int applied = 0;
        for (const Migration& migration : migrations) {
            auto ran = write(connection, "migration " + std::to_string(migration.version), [&] {
                // Checked again inside the transaction: a concurrent migrate may have applied it.
                Statement exists(connection, "SELECT 1 FROM schema_migrations WHERE version = ?");
                exists.bind(1, migration.version);
                if (exists.step()) return false;
                execute_script(connection, migration.sql);
                Statement record(connection,
                                 "INSERT INTO schema_migrations (version, name, applied_at)"
                                 " VALUES (?, ?, ?)");
                record.bind(1, migration.version);
                record.bind(2, migration.name);
                record.bind(3, now);
                record.execute();
                return true;
            });
            if (!ran) return std::unexpected(ran.error());
            applied += *ran ? 1 : 0;
        }
        return applied;
    });
}

void require_current_schema(Connection& connection) {
    auto status = schema_status(connection, embedded_migrations(connection.engine()));
    if (!status) throw StartupError(ErrorKind::database, status.error().message);
    if (status->newer_than_binary())
        throw StartupError(ErrorKind::database, newer_message(*status));
    if (!status->current()) {
        throw StartupError(ErrorKind::database,
                           "the database " + connection.display_name() + " is at schema version " +
                               std::to_string(status->database_version) + ", this binary needs " +
                               std::to_string(status->binary_version) + ": run `gallery migrate`");
    }
}

}  // namespace gallery::db
