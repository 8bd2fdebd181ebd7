// db::Statement on PostgreSQL: a prepared statement run with text parameters; its
// result is read row by row.

#include <charconv>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "db/postgresql/native.hpp"
#include "db/postgresql/translate.hpp"

namespace gallery::db::postgresql {
namespace {

// A prepared statement per distinct SQL text; queries built from a few fixed pieces
// (sort orders, filters) stay well under this. Past it, every statement is dropped.
constexpr std::size_t k_max_prepared = 512;

class PgStatement final : public Statement::Native {
  public:
    PgStatement(PgConnection& connection, Prepared prepared)
        : m_connection(connection),
          m_prepared(std::move(prepared)),
          m_values(static_cast<std::size_t>(m_prepared.parameter_count)) {}

    void bind_int64(int index, std::int64_t value) override { slot(index) = std::to_string(value); }
    void bind_text(int index, std::string_view value) override {
        // libpq's text parameters end at a NUL byte; SQLite would keep the rest.
        if (value.find('\0') != std::string_view::npos)
            throw Failure("a text value with a NUL byte cannot be stored");
        slot(index) = std::string(value);
    }
    void bind_null(int index) override { slot(index).reset(); }

    bool step() override {
        if (!m_result) {
            run();
            m_row = -1;
        }
        ++m_row;
        return m_row < PQntuples(m_result.get());
    }
    std::int64_t execute() override {
        run();
        const char* affected = PQcmdTuples(m_result.get());
        std::int64_t changed = 0;
        if (affected && *affected)
            std::from_chars(affected, affected + std::strlen(affected), changed);
        m_result.reset();
        return changed;
    }
    void reset() override { m_result.reset(); }

    int column_count() const override { return m_result ? PQnfields(m_result.get()) : 0; }
    bool is_null(int column) const override {
        return PQgetisnull(row_result(), m_row, column) != 0;
    }
    std::int64_t int64(int column) const override {
        if (is_null(column)) return 0;
        const char* text = PQgetvalue(row_result(), m_row, column);
        if (text[0] == 't' && text[1] == '\0') return 1;  // a boolean
        if (text[0] == 'f' && text[1] == '\0') return 0;
        std::int64_t value = 0;
        // A numeric (SUM of bigints) may carry a fraction: its integer part, as SQLite.
        std::from_chars(text, text + std::strlen(text), value);
        return value;
    }
    std::string text(int column) const override {
        if (is_null(column)) return "";
        return std::string(PQgetvalue(row_result(), m_row, column),
                           static_cast<std::size_t>(PQgetlength(row_result(), m_row, column)));
    }

  private:
    std::optional<std::string>& slot(int index) {
        if (index < 1 || index > static_cast<int>(m_values.size()))
            throw Failure("parameter " + std::to_string(index) + " is not in the statement");
        m_result.reset();
        return m_values[static_cast<std::size_t>(index - 1)];
    }
    void run() {
        std::vector<const char*> values;
        values.reserve(m_values.size());
        for (const auto& value : m_values) values.push_back(value ? value->c_str() : nullptr);
        m_result = m_connection.run(m_prepared, values);
    }
    const PGresult* row_result() const {
        if (!m_result || m_row < 0 || m_row >= PQntuples(m_result.get()))
            throw Failure("no current row");
        return m_result.get();
    }

    PgConnection& m_connection;
    Prepared m_prepared;
    std::vector<std::optional<std::string>> m_values;
    ResultHandle m_result;
    int m_row = -1;
};

}  // namespace

std::unique_ptr<Statement::Native> PgConnection::prepare(std::string_view sql) {
    ensure_connected();
    return std::make_unique<PgStatement>(*this, prepared_for(sql));
}

Prepared PgConnection::prepared_for(std::string_view sql) {
    const std::string key(sql);
    if (auto found = m_prepared.find(key); found != m_prepared.end()) return found->second;
    if (m_prepared.size() >= k_max_prepared) {
        execute_script("DEALLOCATE ALL");
        m_prepared.clear();
    }
    Translated translated;
    try {
        translated = translate(sql);
    } catch (const std::invalid_argument& e) {
        throw Failure(e.what());
    }
    Prepared prepared{"g" + std::to_string(m_next_name++), translated.parameter_count, key};
    // 0: PostgreSQL infers the type from the use; a number the SQL skips is text.
    constexpr Oid k_text_oid = 25;
    std::vector<Oid> types(translated.used.size(), 0);
    for (std::size_t i = 0; i < types.size(); ++i)
        if (!translated.used[i]) types[i] = k_text_oid;
    ResultHandle result(PQprepare(m_connection.get(), prepared.name.c_str(), translated.sql.c_str(),
                                  static_cast<int>(types.size()),
                                  types.empty() ? nullptr : types.data()));
    if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK)
        throw_failure(result.get(), "prepare");
    m_prepared.emplace(key, prepared);
    return prepared;
}

}  // namespace gallery::db::postgresql
