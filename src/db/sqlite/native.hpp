#pragma once
// What a db::Connection holds on SQLite. Included only by src/db/ (the build's
// include check refuses SQLiteCpp anywhere else).

#include <SQLiteCpp/SQLiteCpp.h>

#include <chrono>
#include <memory>

#include "db/native.hpp"
#include "db/sqlite/statement_cache.hpp"
#include "db/sqlite/writer_turn.hpp"

namespace gallery::db {

class SqliteConnection final : public Connection::Native {
  public:
    // `turn`: null for a read-only connection, which never writes.
    SqliteConnection(SQLite::Database database, std::chrono::milliseconds busy_timeout,
                     std::shared_ptr<WriterTurn> turn);

    Engine engine() const override { return Engine::sqlite; }
    std::unique_ptr<Statement::Native> prepare(std::string_view sql) override;
    void execute_script(std::string_view sql) override;
    std::string begin_write() const override { return "BEGIN IMMEDIATE"; }
    bool has_table(std::string_view name) override;
    void take_write_turn() override;
    void give_back_write_turn() override;
    void run_in_write_turn(FunctionRef transaction) override;

    SQLite::Database& database() { return m_database; }

  private:
    // SQLite's busy handler, for writers of other processes: polls every 0.1 to 2 ms
    // until the busy timeout, where sqlite3_busy_timeout's sleeps grow to 100 ms and
    // keep a writer waiting long after the lock is free.
    static int on_busy(void* connection, int times_called);

    SQLite::Database m_database;
    // After m_database, so its statements are finalized before the database closes.
    StatementCache m_statements;
    std::chrono::milliseconds m_busy_timeout;
    std::shared_ptr<WriterTurn> m_turn;
    std::chrono::steady_clock::time_point m_busy_since;
};

}  // namespace gallery::db
