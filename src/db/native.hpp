#pragma once
// The backend interface behind db::Connection and db::Statement: one implementation
// per engine (src/db/sqlite/, src/db/postgresql/). Included only by src/db/.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gallery/common/function_ref.hpp"
#include "gallery/db/connection.hpp"
#include "gallery/db/statement.hpp"

namespace gallery::db {

// Throws db::Failure (or a subclass) on every error.
struct Statement::Native {
    virtual ~Native() = default;
    virtual void bind_int64(int index, std::int64_t value) = 0;
    virtual void bind_text(int index, std::string_view value) = 0;
    virtual void bind_null(int index) = 0;
    virtual bool step() = 0;
    virtual std::int64_t execute() = 0;
    virtual void reset() = 0;
    virtual int column_count() const = 0;
    virtual bool is_null(int column) const = 0;
    virtual std::int64_t int64(int column) const = 0;
    virtual std::string text(int column) const = 0;
};

struct Connection::Native {
    virtual ~Native() = default;
    virtual Engine engine() const = 0;
    virtual std::unique_ptr<Statement::Native> prepare(std::string_view sql) = 0;
    virtual void execute_script(std::string_view sql) = 0;
    // What opens a write transaction: SQLite takes the write lock at once (BEGIN
    // IMMEDIATE), so its writers run one at a time. PostgreSQL runs READ COMMITTED:
    // where SQLite's single writer was relied on, the code above takes the locks it
    // needs (db::lock_name, db::for_update); SERIALIZABLE made every upload of one
    // client fail its serialization check against the others (scripts/bench). A
    // deadlock (or any serialization failure) is retried by db::write.
    // On PostgreSQL it also gives the transaction the writes' statement timeout when
    // reads have a shorter one (ConnectionOptions::read_statement_timeout).
    virtual std::string begin_write() const = 0;
    // Around an outermost write transaction: taken before its BEGIN, given back after
    // its COMMIT or ROLLBACK. SQLite queues the writers of this process here (see
    // sqlite/writer_turn.hpp); PostgreSQL's writers need no turn. Throws db::Failure
    // when the turn does not come within the busy timeout.
    virtual void take_write_turn() {}
    virtual void give_back_write_turn() {}
    // Runs `transaction` (which begins, runs its body, commits or rolls back, and does
    // not throw) in the write turn, maybe on the thread of the writer before it (see
    // sqlite/writer_turn.hpp). Throws db::Failure when the turn does not come within
    // the busy timeout. PostgreSQL runs it at once.
    virtual void run_in_write_turn(FunctionRef transaction) { transaction(); }
    virtual bool has_table(std::string_view name) = 0;

    // Open write transactions: 0 none, 1 a BEGIN, more are SAVEPOINTs inside it.
    int transaction_depth = 0;
    // Set while run_in_write_turn runs a transaction: it holds the turn already.
    bool write_turn_held = false;
    // The handle failed in a way only a new one recovers from (SQLite: the file became
    // read-only or unreadable for a moment; the open handle stays read-only after the
    // permissions come back): Connection::reopen_if_broken replaces it.
    bool broken = false;
};

std::unique_ptr<Connection::Native> open_sqlite(const ConnectionOptions& options);
std::unique_ptr<Connection::Native> open_postgresql(const ConnectionOptions& options);

}  // namespace gallery::db
