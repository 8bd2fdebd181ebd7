#pragma once
// The database module's statement API: the only way the modules above the database
// run SQL. Parameters are numbered from 1 (`?`, or `?N` to use one value twice);
// columns from 0. Each engine (SQLite, PostgreSQL) implements it behind a pointer, so
// no driver header reaches the callers. The SQL is SQLite's; the PostgreSQL backend
// translates the few spellings that differ (src/db/postgresql/translate.hpp):
// parameters, `X COLLATE NOCASE` (ASCII-only folding on both), LIKE (ASCII
// case-insensitive on both). What cannot be translated is in gallery/db/dialect.hpp.
//
// Errors are thrown as db::Failure and turned into Result by db::read / db::write
// (gallery/db/transaction.hpp): code above the database never catches them itself.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gallery::db {

class Connection;

// A driver error: a constraint, a lock held past the timeout, a lost connection.
class Failure : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The transaction lost a race with another one (PostgreSQL's serialization failure or
// deadlock): db::write runs its body again.
class Conflict : public Failure {
  public:
    using Failure::Failure;
};

// The database cannot be reached (PostgreSQL down or restarting): the request is
// answered 503, the command exits 1, and the next use tries to reconnect.
class Unavailable : public Failure {
  public:
    using Failure::Failure;
};

// A statement ran past its time limit and the server cancelled it (PostgreSQL's
// statement_timeout; reads have a shorter one): the request is answered 503.
class TimedOut : public Failure {
  public:
    using Failure::Failure;
};

// The disk (or quota) under the database is full: the statement wrote nothing.
// SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100). The request is answered 503
// with a sentence saying so; a command exits 1 saying so.
class DiskFull : public Failure {
  public:
    using Failure::Failure;
};

class Statement {
  public:
    // Prepares `sql` on `connection`; the statement must not outlive it.
    Statement(Connection& connection, std::string_view sql);
    ~Statement();
    Statement(Statement&&) noexcept;
    Statement& operator=(Statement&&) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, std::nullopt_t);
    Statement& bind(int index, const std::string& value) {
        return bind(index, std::string_view(value));
    }
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    template <std::integral Integer>
    requires(!std::same_as<Integer, bool> &&
             !std::same_as<Integer, std::int64_t>) Statement& bind(int index, Integer value) {
        return bind(index, static_cast<std::int64_t>(value));
    }
    // nullopt binds NULL.
    template <class Value>
    Statement& bind(int index, const std::optional<Value>& value) {
        return value ? bind(index, *value) : bind(index, std::nullopt);
    }

    // Moves to the next row; false when there is none (the statement has run to its end).
    bool step();
    // Runs the statement to its end and returns how many rows it changed.
    std::int64_t execute();
    // Makes the statement ready to run again; bound values stay.
    void reset();

    // Columns of the current row.
    int column_count() const;
    bool is_null(int column) const;
    std::int64_t int64(int column) const;
    std::string text(int column) const;
    std::optional<std::string> optional_text(int column) const;

    // The engine's statement, for the database module's own code (src/db/).
    struct Native;

  private:
    std::unique_ptr<Native> m_native;
};

// Inserts `rows` rows with `head` VALUES (?, ...), (?, ...) ... `tail` (an ON CONFLICT
// clause, or ""), 100 rows per statement, the remainder 10 and then 1 per statement,
// so a statement trigger runs about once per 100 rows. `bind_row(statement, first, row)` binds row number
// `row` to the parameters first .. first + columns - 1. Returns the rows inserted (fewer
// than `rows` when `tail` skips conflicts).
std::int64_t insert_rows(
    Connection& connection, std::string_view head, int columns, std::string_view tail,
    std::size_t rows, const std::function<void(Statement&, int first, std::size_t row)>& bind_row);

// Runs one or more statements without parameters or results (a migration, a pragma).
void execute_script(Connection& connection, std::string_view sql);

// Gives back the memory of the connection's page cache that no statement uses now
// (SQLite's shrink_memory; nothing on PostgreSQL, whose cache is the server's).
void release_cache_memory(Connection& connection);

// The first column of the first row of `sql` (a COUNT, a MAX); Failure when there is no row.
std::int64_t query_int64(Connection& connection, std::string_view sql);
// Same for a text column ("" for NULL).
std::string query_text(Connection& connection, std::string_view sql);
// Whether `sql`, with `parameter` bound to ?1, yields a row.
bool has_row(Connection& connection, std::string_view sql, std::int64_t parameter);

}  // namespace gallery::db
