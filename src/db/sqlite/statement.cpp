// db::Statement on SQLite, over SQLite's C API (prepared statements come from the
// connection's StatementCache and go back to it). SQLite's errors become db::Failure
// with its message, so nothing above the database sees a driver type.

#include <string>

#include "db/sqlite/native.hpp"

namespace gallery::db {
namespace {

template <class Body>
auto translated(Body&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const SQLite::Exception& e) {
        if ((e.getErrorCode() & 0xff) == SQLITE_FULL) throw DiskFull(e.what());
        throw Failure(e.what());
    }
}

// A statement taken from the connection's cache and given back to it when done.
// Behaves as SQLiteCpp's Statement did: stepping past the end without a reset, or
// reading a column with no row or out of range, throws.
class SqliteStatement final : public Statement::Native {
  public:
    SqliteStatement(sqlite3* database, StatementCache& cache, bool& broken, std::string_view sql)
        : m_database(database),
          m_cache(cache),
          m_broken(broken),
          m_statement(cache.take(database, sql)) {}
    ~SqliteStatement() override { m_cache.give_back(std::move(m_statement)); }
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

    void bind_int64(int index, std::int64_t value) override {
        check(sqlite3_bind_int64(m_statement.get(), index, value));
    }
    void bind_text(int index, std::string_view value) override {
        // As TEXT, never a BLOB (NOCASE and LIKE compare only text); an empty view may
        // have no pointer, and a null pointer would bind NULL instead of "".
        check(sqlite3_bind_text(m_statement.get(), index, value.data() ? value.data() : "",
                                static_cast<int>(value.size()), SQLITE_TRANSIENT));
    }
    void bind_null(int index) override { check(sqlite3_bind_null(m_statement.get(), index)); }
    bool step() override {
        if (m_done) throw Failure("statement stepped past its last row without a reset");
        const int result = sqlite3_step(m_statement.get());
        m_has_row = result == SQLITE_ROW;
        m_done = result == SQLITE_DONE;
        if (!m_has_row && !m_done) check(result);
        return m_has_row;
    }
    std::int64_t execute() override {
        while (step()) {
        }
        const std::int64_t changed = sqlite3_changes64(m_database);
        reset();
        return changed;
    }
    void reset() override {
        // What the last step's error was has been thrown by that step already.
        sqlite3_reset(m_statement.get());
        m_has_row = m_done = false;
    }
    int column_count() const override { return sqlite3_column_count(m_statement.get()); }
    bool is_null(int column) const override {
        check_column(column);
        return sqlite3_column_type(m_statement.get(), column) == SQLITE_NULL;
    }
    std::int64_t int64(int column) const override {
        check_column(column);
        return sqlite3_column_int64(m_statement.get(), column);
    }
    std::string text(int column) const override {
        check_column(column);
        // Text first, then its size in bytes (SQLite's documented order).
        const auto* bytes =
            reinterpret_cast<const char*>(sqlite3_column_text(m_statement.get(), column));
        const int size = sqlite3_column_bytes(m_statement.get(), column);
        return bytes ? std::string(bytes, static_cast<std::size_t>(size)) : std::string();
    }

  private:
    void check(int result) const {
        if (result == SQLITE_OK) return;
        // A handle that met a read-only or unreadable file stays that way: the next
        // lender gets a new one (Connection::reopen_if_broken).
        const int primary = result & 0xff;
        if (primary == SQLITE_READONLY || primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN)
            m_broken = true;
        if (primary == SQLITE_FULL) throw DiskFull(sqlite3_errmsg(m_database));
        throw Failure(sqlite3_errmsg(m_database));
    }
    void check_column(int column) const {
        if (!m_has_row) throw Failure("no row to read a column from");
        if (column < 0 || column >= sqlite3_column_count(m_statement.get()))
            throw Failure("column index " + std::to_string(column) + " out of range");
    }

    sqlite3* m_database;
    StatementCache& m_cache;
    bool& m_broken;
    StatementHandle m_statement;
    bool m_has_row = false;
    bool m_done = false;
};

}  // namespace

std::unique_ptr<Statement::Native> SqliteConnection::prepare(std::string_view sql) {
    return std::make_unique<SqliteStatement>(m_database.getHandle(), m_statements, broken, sql);
}

void SqliteConnection::execute_script(std::string_view sql) {
    // One statement (BEGIN, COMMIT, SAVEPOINT, a PRAGMA: most scripts) is kept in the
    // cache like any other; several are run by sqlite3_exec.
    if (sql.find(';') == std::string_view::npos) {
        SqliteStatement(m_database.getHandle(), m_statements, broken, sql).execute();
        return;
    }
    translated([&] { m_database.exec(std::string(sql)); });
}

bool SqliteConnection::has_table(std::string_view name) {
    return translated([&] { return m_database.tableExists(std::string(name)); });
}

}  // namespace gallery::db
