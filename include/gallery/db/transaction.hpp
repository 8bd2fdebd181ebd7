#pragma once
// How code above the database runs SQL: db::read for statements outside a write
// transaction, db::write for a write transaction. Both turn a db::Failure (or any
// exception) thrown by the body into Error{database, "<context>: <driver text>"}.
//
// A body may return a plain value or a Result<T>. db::write commits when the body
// returns a value and rolls back when it returns an error or throws; an error the
// body returns keeps its kind and its message. A db::write inside another one (on the
// same connection) is a savepoint: its rollback undoes only its own work.

#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "gallery/common/error.hpp"
#include "gallery/common/function_ref.hpp"
#include "gallery/db/connection.hpp"
#include "gallery/db/statement.hpp"

namespace gallery::db {

namespace detail {

template <class T>
struct result_value {
    using type = T;
    static constexpr bool is_result = false;
};
template <class T>
struct result_value<Result<T>> {
    using type = T;
    static constexpr bool is_result = true;
};

template <class Body>
using body_value = typename result_value<std::invoke_result_t<Body>>::type;

Error database_error(std::string_view context, const std::exception& e);

// Before the next attempt of a write that lost a race (Conflict): a short random pause
// that grows with `attempt`, so that the racers do not meet again.
void pause_before_retry(int attempt);

// How many times db::write runs a body that keeps losing races.
inline constexpr int k_write_attempts = 12;

}  // namespace detail

// A write transaction held for the object's life: SQLite takes the write lock at the
// start (BEGIN IMMEDIATE), so no upgrade can fail half-way. Rolls back unless
// committed. Prefer db::write; this is for the rare body that is not a function.
class WriteTransaction {
  public:
    explicit WriteTransaction(Connection& connection);
    ~WriteTransaction();
    WriteTransaction(const WriteTransaction&) = delete;
    WriteTransaction& operator=(const WriteTransaction&) = delete;

    void commit();

  private:
    Connection& m_connection;
    bool m_open = true;
    bool m_owns_turn = false;  // taken by this object (not by run_in_write_turn)
};

// A read transaction held for the object's life: every statement in it sees the
// database as one snapshot (SQLite: a deferred transaction, whose snapshot starts at
// its first read; PostgreSQL: REPEATABLE READ, READ ONLY), however long the reading
// takes and whatever other connections commit meanwhile. Ends (rolls back) with the
// object. Not inside a write transaction.
class ReadSnapshot {
  public:
    explicit ReadSnapshot(Connection& connection);
    ~ReadSnapshot();
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;

  private:
    Connection& m_connection;
};

namespace detail {

// Runs `transaction` (which must not throw) in the connection's write turn: on SQLite
// maybe on the thread of the writer before it in line, while this thread waits (see
// src/db/sqlite/writer_turn.hpp). Throws db::Failure when the turn does not come
// within the busy timeout.
void run_in_write_turn(Connection& connection, FunctionRef transaction);

// One attempt of db::write's transaction: leaves what the body returned in `outcome`;
// throws what the body throws.
template <class Value, class Body>
void write_once(Connection& connection, Body& body, std::optional<Value>& outcome) {
    using Returned = std::invoke_result_t<Body>;
    WriteTransaction transaction(connection);
    if constexpr (std::is_void_v<Returned>) {
        body();
        transaction.commit();
        outcome.emplace();
    } else if constexpr (result_value<Returned>::is_result) {
        outcome.emplace(body());
        if (*outcome) transaction.commit();
    } else {
        outcome.emplace(body());
        transaction.commit();
    }
}

}  // namespace detail

template <class Body>
auto read(std::string_view context, Body&& body) -> Result<detail::body_value<Body>> {
    try {
        if constexpr (std::is_void_v<std::invoke_result_t<Body>>) {
            body();
            return {};
        } else {
            return body();
        }
    } catch (const std::exception& e) {
        return std::unexpected(detail::database_error(context, e));
    }
}

// On PostgreSQL a top-level write that loses a race with another transaction (a
// serialization failure) is rolled back and its body run again, up to k_write_attempts
// times: bodies must do nothing outside the database that cannot be repeated.
template <class Body>
auto write(Connection& connection, std::string_view context, Body&& body)
    -> Result<detail::body_value<Body>> {
    using Value = Result<detail::body_value<Body>>;
    const bool nested = connection.in_transaction();
    for (int attempt = 1;; ++attempt) {
        try {
            std::optional<Value> outcome;
            if (nested) {
                detail::write_once(connection, body, outcome);
                return std::move(*outcome);
            }
            // The body may run on another thread (the writer before this one in line):
            // what it returns or throws comes back here.
            std::exception_ptr thrown;
            auto transaction = [&]() noexcept {
                try {
                    detail::write_once(connection, body, outcome);
                } catch (...) {
                    thrown = std::current_exception();
                }
            };
            detail::run_in_write_turn(connection, transaction);
            if (thrown) std::rethrow_exception(thrown);
            return std::move(*outcome);
        } catch (const Conflict& e) {
            if (nested) throw;  // the outermost write runs everything again
            if (attempt >= detail::k_write_attempts)
                return std::unexpected(detail::database_error(context, e));
            detail::pause_before_retry(attempt);
        } catch (const std::exception& e) {
            return std::unexpected(detail::database_error(context, e));
        }
    }
}

}  // namespace gallery::db
