// db::Statement on SQLite, over SQLiteCpp. SQLiteCpp's exceptions become db::Failure
// here, so nothing above the database sees a driver type.

#include "db/sqlite/native.hpp"

namespace gallery::db {
namespace {

template <class Body>
auto translated(Body&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const SQLite::Exception& e) {
        throw Failure(e.what());
    }
}

class SqliteStatement final : public Statement::Native {
  public:
    SqliteStatement(SQLite::Database& database, std::string_view sql)
        : m_statement(translated([&] { return SQLite::Statement(database, std::string(sql)); })) {}

    void bind_int64(int index, std::int64_t value) override {
        translated([&] { m_statement.bind(index, value); });
    }
    void bind_text(int index, std::string_view value) override {
        // As TEXT (SQLiteCpp's pointer-and-size overload would bind a BLOB, which
        // NOCASE and LIKE do not compare as text).
        translated([&] { m_statement.bind(index, std::string(value)); });
    }
    void bind_null(int index) override {
        translated([&] { m_statement.bind(index); });
    }
    bool step() override {
        return translated([&] { return m_statement.executeStep(); });
    }
    std::int64_t execute() override {
        return translated([&]() -> std::int64_t {
            while (m_statement.executeStep()) {
            }
            const std::int64_t changed = m_statement.getChanges();
            m_statement.reset();
            return changed;
        });
    }
    void reset() override {
        translated([&] { m_statement.reset(); });
    }
    int column_count() const override { return m_statement.getColumnCount(); }
    bool is_null(int column) const override {
        return translated([&] { return m_statement.getColumn(column).isNull(); });
    }
    std::int64_t int64(int column) const override {
        return translated([&] { return m_statement.getColumn(column).getInt64(); });
    }
    std::string text(int column) const override {
        return translated([&] { return m_statement.getColumn(column).getString(); });
    }

  private:
    // getColumn is not const in SQLiteCpp's interface.
    mutable SQLite::Statement m_statement;
};

}  // namespace

std::unique_ptr<Statement::Native> SqliteConnection::prepare(std::string_view sql) {
    return std::make_unique<SqliteStatement>(m_database, sql);
}

void SqliteConnection::execute_script(std::string_view sql) {
    translated([&] { m_database.exec(std::string(sql)); });
}

bool SqliteConnection::has_table(std::string_view name) {
    return translated([&] { return m_database.tableExists(std::string(name)); });
}

}  // namespace gallery::db
