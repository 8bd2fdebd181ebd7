// SQLite connections keep their prepared statements for the next statement of the
// same SQL (src/db/sqlite/statement_cache.hpp). Observed through SQLite's own list of
// a connection's prepared statements, the sqlite_stmt table (Debian's SQLite has it).
#include <catch2/catch.hpp>

#include <string>

#include "gallery/db/statement.hpp"
#include "gallery/db/transaction.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;

namespace {

std::int64_t prepared_count(db::Connection& connection, const std::string& where) {
    return db::query_int64(connection, "SELECT COUNT(*) FROM sqlite_stmt WHERE " + where);
}

std::int64_t run_select(db::Connection& connection, const std::string& sql) {
    db::Statement select(connection, sql);
    REQUIRE(select.step());
    return select.is_null(0) ? -1 : select.int64(0);
}

}  // namespace

TEST_CASE("a statement run again reuses its prepared statement, reset and unbound") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    const std::string sql = "SELECT ?1 + 0 AS reused";
    {
        db::Statement first(connection, sql);
        first.bind(1, std::int64_t{41});
        REQUIRE(first.step());
        CHECK(first.int64(0) == 41);
        // Left mid-result: giving it back resets it.
    }
    CHECK(prepared_count(connection, "sql = '" + sql + "'") == 1);
    CHECK(prepared_count(connection, "busy") == 1);  // only the count itself
    // The same SQL again gets that statement, with no value left bound from before.
    CHECK(run_select(connection, sql) == -1);
    CHECK(prepared_count(connection, "sql = '" + sql + "'") == 1);
}

TEST_CASE("a connection keeps at most 32 idle prepared statements") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    for (int i = 0; i < 100; ++i) {
        CHECK(run_select(connection, "SELECT " + std::to_string(i) + " AS distinct_sql") == i);
    }
    // The 32 most recent are kept (and the one counting them is running).
    CHECK(prepared_count(connection, "sql LIKE 'SELECT % AS distinct_sql'") == 32);
    CHECK(prepared_count(connection, "sql = 'SELECT 99 AS distinct_sql'") == 1);
    CHECK(prepared_count(connection, "sql = 'SELECT 67 AS distinct_sql'") == 0);
}

TEST_CASE("a kept statement follows a change of the schema") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    db::execute_script(connection, "CREATE TABLE cache_probe (a INTEGER)");
    db::execute_script(connection, "INSERT INTO cache_probe VALUES (1)");
    // Read after the step, which prepares the statement again if the schema changed.
    const auto columns = [&] {
        db::Statement select(connection, "SELECT * FROM cache_probe");
        REQUIRE(select.step());
        return select.column_count();
    };
    CHECK(columns() == 1);
    db::execute_script(connection, "ALTER TABLE cache_probe ADD COLUMN b INTEGER DEFAULT 7");
    CHECK(columns() == 2);
    db::Statement select(connection, "SELECT * FROM cache_probe");
    REQUIRE(select.step());
    CHECK(select.int64(1) == 7);
}

TEST_CASE("transactions commit and roll back through kept BEGIN and COMMIT statements") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    db::execute_script(connection, "CREATE TABLE cache_probe (a INTEGER)");
    for (int round = 0; round < 3; ++round) {
        REQUIRE(db::write(connection, "test: insert", [&] {
            db::execute_script(connection, "INSERT INTO cache_probe VALUES (1)");
        }));
        auto refused = db::write(connection, "test: refused", [&]() -> Result<void> {
            db::execute_script(connection, "INSERT INTO cache_probe VALUES (2)");
            return std::unexpected(Error{ErrorKind::invalid_input, "no"});
        });
        CHECK_FALSE(refused);
    }
    CHECK(db::query_int64(connection, "SELECT COUNT(*) FROM cache_probe WHERE a = 1") == 3);
    CHECK(db::query_int64(connection, "SELECT COUNT(*) FROM cache_probe WHERE a = 2") == 0);
    CHECK(prepared_count(connection, "sql = 'COMMIT'") == 1);
}

TEST_CASE("an empty text binds as text, apart from NULL") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    db::Statement select(connection, "SELECT typeof(?1), typeof(?2), length(?1)");
    select.bind(1, std::string_view{});
    select.bind(2, std::nullopt);
    REQUIRE(select.step());
    CHECK(select.text(0) == "text");
    CHECK(select.text(1) == "null");
    CHECK(select.int64(2) == 0);
}
