#pragma once
// Prepared statements kept per SQLite connection, for the next statement of the same
// SQL text. Preparing was 15% of `gallery serve`'s CPU under scripts/loadtest (perf:
// sqlite3_prepare_v2 parses and plans every statement, and a statement on a table
// with triggers compiles the triggers too); 39% of those samples were inside write
// transactions, where every writer of the process waits for them.
// PostgreSQL's connection keeps its prepared statements the same way.
//
// A statement given back is reset and its bindings cleared, so an idle one holds no
// read transaction and a later user starts from NULL parameters. sqlite3_prepare_v2
// statements prepare themselves again at their first step after a schema change (so
// their column count is read from SQLite after a step, never remembered).

#include <sqlite3.h>

#include <cstddef>
#include <list>
#include <memory>
#include <string_view>

namespace gallery::db {

struct FinalizeStatement {
    void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
};
using StatementHandle = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;

class StatementCache {
  public:
    // Idle statements kept, most recently used first; the least recent is finalized.
    static constexpr std::size_t k_capacity = 32;

    // An idle statement of exactly `sql`, or a new one prepared on `database`. Throws
    // db::Failure with SQLite's message when `sql` does not compile.
    StatementHandle take(sqlite3* database, std::string_view sql);
    // Keeps `statement` for the next take of its SQL; one whose last step failed is
    // finalized instead.
    void give_back(StatementHandle statement) noexcept;

  private:
    std::list<StatementHandle> m_idle;
};

}  // namespace gallery::db
