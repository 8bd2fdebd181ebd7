// db::Statement on SQLite, over SQLiteCpp. SQLiteCpp's exceptions become db::Failure
// here, so nothing above the database sees a driver type.

#include "gallery/db/statement.hpp"

#include "db/sqlite/native.hpp"

namespace gallery::db {

struct Statement::Native {
    SQLite::Statement statement;
};

namespace {

template <class Body>
auto translated(Body&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const SQLite::Exception& e) {
        throw Failure(e.what());
    }
}

}  // namespace

Statement::Statement(Connection& connection, std::string_view sql) {
    translated([&] {
        m_native.reset(new Native{SQLite::Statement(sqlite_of(connection), std::string(sql))});
    });
}

Statement::~Statement() = default;
Statement::Statement(Statement&&) noexcept = default;
Statement& Statement::operator=(Statement&&) noexcept = default;

Statement& Statement::bind(int index, std::int64_t value) {
    translated([&] { m_native->statement.bind(index, value); });
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    // As TEXT (SQLiteCpp's pointer-and-size overload would bind a BLOB, which
    // NOCASE and LIKE do not compare as text).
    translated([&] { m_native->statement.bind(index, std::string(value)); });
    return *this;
}

Statement& Statement::bind(int index, std::nullopt_t) {
    translated([&] { m_native->statement.bind(index); });
    return *this;
}

bool Statement::step() {
    return translated([&] { return m_native->statement.executeStep(); });
}

std::int64_t Statement::execute() {
    return translated([&]() -> std::int64_t {
        SQLite::Statement& statement = m_native->statement;
        while (statement.executeStep()) {
        }
        const std::int64_t changed = statement.getChanges();
        statement.reset();
        return changed;
    });
}

void Statement::reset() {
    translated([&] { m_native->statement.reset(); });
}

int Statement::column_count() const {
    return m_native->statement.getColumnCount();
}

bool Statement::is_null(int column) const {
    return translated([&] { return m_native->statement.getColumn(column).isNull(); });
}

std::int64_t Statement::int64(int column) const {
    return translated([&] { return m_native->statement.getColumn(column).getInt64(); });
}

std::string Statement::text(int column) const {
    return translated([&] { return m_native->statement.getColumn(column).getString(); });
}

std::optional<std::string> Statement::optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
}

void execute_script(Connection& connection, std::string_view sql) {
    translated([&] { sqlite_of(connection).exec(std::string(sql)); });
}

std::int64_t query_int64(Connection& connection, std::string_view sql) {
    Statement query(connection, sql);
    if (!query.step()) throw Failure("no row from: " + std::string(sql));
    return query.int64(0);
}

std::string query_text(Connection& connection, std::string_view sql) {
    Statement query(connection, sql);
    if (!query.step()) throw Failure("no row from: " + std::string(sql));
    return query.optional_text(0).value_or("");
}

bool has_row(Connection& connection, std::string_view sql, std::int64_t parameter) {
    Statement query(connection, sql);
    query.bind(1, parameter);
    return query.step();
}

}  // namespace gallery::db
