// db::Statement: forwards to the engine's statement (src/db/native.hpp).

#include "gallery/db/statement.hpp"

#include "db/native.hpp"

namespace gallery::db {

Statement::Statement(Connection& connection, std::string_view sql)
    : m_native(connection.native().prepare(sql)) {}

Statement::~Statement() = default;
Statement::Statement(Statement&&) noexcept = default;
Statement& Statement::operator=(Statement&&) noexcept = default;

Statement& Statement::bind(int index, std::int64_t value) {
    m_native->bind_int64(index, value);
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    m_native->bind_text(index, value);
    return *this;
}

Statement& Statement::bind(int index, std::nullopt_t) {
    m_native->bind_null(index);
    return *this;
}

bool Statement::step() {
    return m_native->step();
}

std::int64_t Statement::execute() {
    return m_native->execute();
}

void Statement::reset() {
    m_native->reset();
}

int Statement::column_count() const {
    return m_native->column_count();
}

bool Statement::is_null(int column) const {
    return m_native->is_null(column);
}

std::int64_t Statement::int64(int column) const {
    return m_native->int64(column);
}

std::string Statement::text(int column) const {
    return m_native->text(column);
}

std::optional<std::string> Statement::optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
}

void execute_script(Connection& connection, std::string_view sql) {
    connection.native().execute_script(sql);
}

void release_cache_memory(Connection& connection) {
    if (connection.engine() == Engine::sqlite) execute_script(connection, "PRAGMA shrink_memory");
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

namespace {

std::string insert_rows_sql(std::string_view head, int columns, std::string_view tail,
                            std::size_t rows) {
    std::string sql(head);
    sql += " VALUES ";
    for (std::size_t row = 0; row < rows; ++row) {
        sql += row == 0 ? "(" : ", (";
        for (int column = 0; column < columns; ++column) sql += column == 0 ? "?" : ", ?";
        sql += ")";
    }
    return sql + std::string(tail);
}

}  // namespace

std::int64_t insert_rows(
    Connection& connection, std::string_view head, int columns, std::string_view tail,
    std::size_t rows, const std::function<void(Statement&, int first, std::size_t row)>& bind_row) {
    // Statements of 100 rows, then of 10, then of 1: at most 19 statements besides the
    // full ones (a statement per row would run a statement trigger, PostgreSQL's queue
    // counters, per row), and three statement texts, so the connections' prepared
    // statement caches stay small. 100 rows of up to 10 columns: 1,000 parameters,
    // within both engines' limits.
    std::size_t next = 0;
    std::int64_t inserted = 0;
    for (const std::size_t rows_per_statement : {100UZ, 10UZ, 1UZ}) {
        if (rows - next < rows_per_statement) continue;
        Statement statement(connection, insert_rows_sql(head, columns, tail, rows_per_statement));
        for (; next + rows_per_statement <= rows; next += rows_per_statement) {
            for (std::size_t row = 0; row < rows_per_statement; ++row)
                bind_row(statement, static_cast<int>(row) * columns + 1, next + row);
            inserted += statement.execute();
        }
    }
    return inserted;
}

bool has_row(Connection& connection, std::string_view sql, std::int64_t parameter) {
    Statement query(connection, sql);
    query.bind(1, parameter);
    return query.step();
}

}  // namespace gallery::db
