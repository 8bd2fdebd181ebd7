#pragma once
// What a db::Connection holds on PostgreSQL: a libpq connection and its prepared
// statements. Included only by src/db/ (the build's include check refuses libpq
// anywhere else).

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "db/native.hpp"

namespace gallery::db::postgresql {

struct ConnectionDeleter {
    void operator()(PGconn* connection) const { PQfinish(connection); }
};
struct ResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
};
using ConnectionHandle = std::unique_ptr<PGconn, ConnectionDeleter>;
using ResultHandle = std::unique_ptr<PGresult, ResultDeleter>;

// A prepared statement's server-side name, how many parameters it takes, and the
// SQLite text it was made from (to prepare it again on a new connection).
struct Prepared {
    std::string name;
    int parameter_count = 0;
    std::string sql;
};

class PgConnection final : public Connection::Native {
  public:
    explicit PgConnection(const ConnectionOptions& options);

    Engine engine() const override { return Engine::postgresql; }
    std::unique_ptr<Statement::Native> prepare(std::string_view sql) override;
    void execute_script(std::string_view sql) override;
    std::string begin_write() const override;
    bool has_table(std::string_view name) override;

    // Runs a prepared statement; throws Failure, Conflict or Unavailable. A statement
    // prepared on a connection since lost (or dropped from the cache) is prepared
    // again first, and `prepared` updated.
    ResultHandle run(Prepared& prepared, const std::vector<const char*>& values);

  private:
    // The prepared statement for `sql` on the current connection, made if needed.
    Prepared prepared_for(std::string_view sql);
    // Reconnects a lost connection (only between transactions: a transaction that
    // lost its connection is gone, and its caller hears Unavailable).
    void ensure_connected();
    void set_up_session();
    std::int64_t session_statement_timeout_ms() const;
    // Throws the Failure that fits `result` (nullptr: the connection's own error).
    [[noreturn]] void throw_failure(PGresult* result, std::string_view what);

    ConnectionOptions m_options;
    ConnectionHandle m_connection;
    std::unordered_map<std::string, Prepared> m_prepared;  // by SQLite text
    int m_next_name = 0;
};

}  // namespace gallery::db::postgresql
