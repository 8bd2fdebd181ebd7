// db::Connection on PostgreSQL, over libpq.

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "db/postgresql/native.hpp"
#include "db/postgresql/translate.hpp"
#include "gallery/common/error.hpp"
#include "gallery/common/text.hpp"

namespace gallery::db {
namespace postgresql {
namespace {

std::string trimmed(const char* message) {
    std::string text = message ? message : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    for (char& c : text)
        if (c == '\n') c = ' ';
    return text;
}

ConnectionHandle connect(const ConnectionOptions& options) {
    const std::string connect_timeout = std::to_string(options.connect_timeout.count());
    // Later entries win, and `dbname` expands the URL in place: the URL's own
    // connect_timeout overrides ours. A TCP peer that vanishes is noticed within
    // tcp_user_timeout and the keepalives instead of hanging a worker.
    const char* keywords[] = {
        "connect_timeout",     "application_name", "tcp_user_timeout", "keepalives_idle",
        "keepalives_interval", "keepalives_count", "dbname",           nullptr};
    const char* values[] = {connect_timeout.c_str(),        "gallery", "10000", "10", "5", "2",
                            options.postgresql_url.c_str(), nullptr};
    return ConnectionHandle(PQconnectdbParams(keywords, values, 1));
}

// Notices (a COMMIT after a failed statement answers "there is no transaction in
// progress") are not errors: the statement's result says what matters.
void quiet(PGconn* connection) {
    PQsetNoticeProcessor(
        connection, [](void*, const char*) {}, nullptr);
}

}  // namespace

PgConnection::PgConnection(const ConnectionOptions& options)
    : m_options(options), m_connection(connect(options)) {
    if (m_connection && PQstatus(m_connection.get()) == CONNECTION_OK) quiet(m_connection.get());
    if (!m_connection || PQstatus(m_connection.get()) != CONNECTION_OK) {
        throw StartupError(ErrorKind::database_unavailable,
                           "cannot connect to the database " + redact_url(options.postgresql_url) +
                               ": " + trimmed(PQerrorMessage(m_connection.get())));
    }
    try {
        set_up_session();
    } catch (const Failure& e) {
        throw StartupError(ErrorKind::database, "cannot set up the database session " +
                                                    redact_url(options.postgresql_url) + ": " +
                                                    e.what());
    }
}

// Outside write transactions (the reads) the shorter read limit, when one is set.
std::int64_t PgConnection::session_statement_timeout_ms() const {
    if (m_options.read_statement_timeout.count() > 0)
        return m_options.read_statement_timeout.count();
    return m_options.statement_timeout.count() * 1000;
}

void PgConnection::set_up_session() {
    // Gallery's tables live in the schema `gallery` (created by `gallery migrate`), so
    // they never meet another application's in the same database. Times are integers,
    // but UTC keeps any server-side date arithmetic (db::dialect) the same everywhere.
    execute_script(std::string(m_options.foreign_read_only
                                   ? "SET default_transaction_read_only = on;"
                                   : "SET search_path TO gallery;") +
                   " SET TIME ZONE 'UTC';"
                   " SET statement_timeout = " +
                   std::to_string(session_statement_timeout_ms()) +
                   "; SET lock_timeout = " + std::to_string(m_options.busy_timeout.count()) +
                   "; SET idle_in_transaction_session_timeout = " +
                   std::to_string(m_options.statement_timeout.count() * 2000));
}

std::string PgConnection::begin_write() const {
    if (m_options.read_statement_timeout.count() == 0) return "BEGIN";
    return "BEGIN; SET LOCAL statement_timeout = " +
           std::to_string(m_options.statement_timeout.count() * 1000);
}

void PgConnection::ensure_connected() {
    if (PQstatus(m_connection.get()) == CONNECTION_OK) return;
    if (transaction_depth > 0) {
        throw Unavailable("the database connection was lost during a transaction: " +
                          trimmed(PQerrorMessage(m_connection.get())));
    }
    m_prepared.clear();
    ConnectionHandle fresh = connect(m_options);
    if (!fresh || PQstatus(fresh.get()) != CONNECTION_OK) {
        throw Unavailable("the database is unavailable: " + trimmed(PQerrorMessage(fresh.get())));
    }
    quiet(fresh.get());
    m_connection = std::move(fresh);
    set_up_session();
}

void PgConnection::throw_failure(PGresult* result, std::string_view what) {
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string code = state ? state : "";
    const std::string message =
        std::string(what) + ": " +
        trimmed(result ? PQresultErrorMessage(result) : PQerrorMessage(m_connection.get()));
    if (code == "40001" || code == "40P01") throw Conflict(message);
    if (code == "57014") throw TimedOut(message);  // query_canceled: statement_timeout
    if (code == "53100") throw DiskFull(message);
    // Class 08: connection exceptions; 57P01-03: the server is shutting down or starting.
    if (PQstatus(m_connection.get()) != CONNECTION_OK || code.starts_with("08") ||
        code == "57P01" || code == "57P02" || code == "57P03") {
        throw Unavailable("the database is unavailable: " + message);
    }
    throw Failure(message);
}

ResultHandle PgConnection::run(Prepared& prepared, const std::vector<const char*>& values) {
    ensure_connected();
    if (const auto found = m_prepared.find(prepared.sql);
        found == m_prepared.end() || found->second.name != prepared.name) {
        prepared = prepared_for(prepared.sql);
    }
    ResultHandle result(PQexecPrepared(m_connection.get(), prepared.name.c_str(),
                                       static_cast<int>(values.size()), values.data(), nullptr,
                                       nullptr, 0));
    const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
        throw_failure(result.get(), "statement");
    return result;
}

void PgConnection::execute_script(std::string_view sql) {
    ensure_connected();
    ResultHandle result(PQexec(m_connection.get(), std::string(sql).c_str()));
    const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
        throw_failure(result.get(), "script");
}

bool PgConnection::has_table(std::string_view name) {
    auto query = prepare("SELECT 1 FROM pg_tables WHERE schemaname = 'gallery' AND tablename = ?1");
    query->bind_text(1, name);
    return query->step();
}

}  // namespace postgresql

std::unique_ptr<Connection::Native> open_postgresql(const ConnectionOptions& options) {
    return std::make_unique<postgresql::PgConnection>(options);
}

}  // namespace gallery::db
