#pragma once
// Schema migrations: numbered SQL files compiled into the binary, applied in
// order, each in its own transaction, recorded in `schema_migrations`.

#include <optional>
#include <string>
#include <vector>

#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"
#include "gallery/db/connection.hpp"

namespace gallery::db {

struct Migration {
    int version;
    std::string name;
    std::string sql;
};

// Every migration of this build for `engine` (migrations/*.sql for SQLite,
// migrations/postgresql/*.sql), ascending by version. Both lists have the same
// versions with the same meaning: a schema version names the same tables on both.
const std::vector<Migration>& embedded_migrations(Engine engine = Engine::sqlite);

struct MigrationState {
    int version;
    std::string name;
    std::optional<UnixMicros> applied_at;  // nullopt: pending
};

struct SchemaStatus {
    std::vector<MigrationState> migrations;  // known to this binary
    int database_version = 0;                // highest version recorded in the database
    int binary_version = 0;                  // highest version this binary knows
    bool newer_than_binary() const { return database_version > binary_version; }
    bool current() const { return database_version == binary_version; }
};

// Reads the state without writing anything.
Result<SchemaStatus> schema_status(Connection& connection,
                                   const std::vector<Migration>& migrations);

// Applies the pending migrations; returns how many were applied (0 when current).
// Refuses, without writing, a database whose schema is newer than `migrations`.
// PostgreSQL: creates the schema `gallery` first, and holds an advisory lock
// throughout, so two hosts migrating at once apply each migration once.
Result<int> migrate(Connection& connection, const std::vector<Migration>& migrations,
                    UnixMicros now);

// For every command but migrate: throws StartupError unless the schema is exactly current.
void require_current_schema(Connection& connection);

}  // namespace gallery::db
