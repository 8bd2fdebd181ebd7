#pragma once
// What a db::Connection holds on SQLite. Included only by src/db/ (the build's
// include check refuses SQLiteCpp anywhere else).

#include <SQLiteCpp/SQLiteCpp.h>

#include "db/native.hpp"

namespace gallery::db {

class SqliteConnection final : public Connection::Native {
  public:
    explicit SqliteConnection(SQLite::Database database) : m_database(std::move(database)) {}

    Engine engine() const override { return Engine::sqlite; }
    std::unique_ptr<Statement::Native> prepare(std::string_view sql) override;
    void execute_script(std::string_view sql) override;
    std::string_view begin_write() const override { return "BEGIN IMMEDIATE"; }
    bool has_table(std::string_view name) override;

    SQLite::Database& database() { return m_database; }

  private:
    SQLite::Database m_database;
};

}  // namespace gallery::db
