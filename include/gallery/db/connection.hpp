#pragma once
// One database connection set up the way gallery needs it, on either engine:
// SQLite (a file: WAL, busy timeout, foreign keys) or PostgreSQL (a libpq URI;
// gallery's tables in the schema `gallery`, statement and lock timeouts, a lost
// connection re-established on its next use outside a transaction). A connection is
// used by one thread at a time (the server borrows them from db::ConnectionPool).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace gallery::db {

enum class Engine { sqlite, postgresql };

struct ConnectionOptions {
    std::filesystem::path path{};  // SQLite: the database file
    // Non-empty: PostgreSQL, in libpq's syntax (postgresql://user:pw@host:port/db?sslmode=...,
    // or key=value pairs). `path` is then unused.
    std::string postgresql_url{};
    // migrate creates the file (and its folder); every other command expects it.
    bool create_if_missing = false;
    // How long a statement waits for a lock another connection holds (SQLite's busy
    // timeout, PostgreSQL's lock_timeout).
    std::chrono::milliseconds busy_timeout{10'000};
    // > 0: SQLite's page cache of this connection, in KiB (its default is 2,000 KiB).
    int cache_kib = 0;
    // SQLite: the commits of this connection leave the WAL to a db::WalCheckpointer
    // (wal_autocheckpoint off), instead of copying it into the database and syncing
    // inside the COMMIT of whichever writer crossed 1,000 pages, while the writers
    // queued behind it wait (see sqlite/writer_turn.hpp).
    bool checkpoint_in_background = false;
    // SQLite, for a connection that writes in large batches (the cleanup command): > 0
    // lets the WAL grow to this many pages before a commit copies it into the database
    // (SQLite's default is 1,000), so a page that every batch changes is copied once
    // per checkpoint instead of once per batch.
    int wal_autocheckpoint_pages = 0;
    // SQLite: statement journals (the pages a statement or savepoint may roll back) are
    // kept in memory instead of spilling to a temporary file past 64 KiB
    // (temp_store=MEMORY, which also keeps this connection's sorts and temporary
    // tables in memory). Only for a connection whose transactions are bounded: each
    // page a statement changes is held once more until it ends.
    bool temp_in_memory = false;
    // PostgreSQL: how long connecting may take, and how long one statement may run
    // before the server cancels it (a URL's own connect_timeout wins).
    std::chrono::seconds connect_timeout{5};
    std::chrono::seconds statement_timeout{30};
    // PostgreSQL: the limit of a statement outside a write transaction (a list, a
    // count); 0: the same as statement_timeout. Past it the server cancels the
    // statement and the read fails with ErrorKind::overloaded (503).
    std::chrono::milliseconds read_statement_timeout{0};
    // For reading another application's database (the original's, for the import):
    // SQLite opens the file read-only and leaves its journal mode alone; PostgreSQL
    // keeps the server's search_path instead of gallery's schema and makes every
    // transaction read-only.
    bool foreign_read_only = false;
};

class Connection {
  public:
    // Throws StartupError (exit code 1) with a sentence when the database cannot be
    // opened or reached.
    explicit Connection(const ConnectionOptions& options);
    ~Connection();
    Connection(Connection&&) noexcept;
    Connection& operator=(Connection&&) noexcept;

    Engine engine() const;
    // The file, or the PostgreSQL URL without its password: for messages.
    const std::string& display_name() const { return m_display_name; }
    // Whether a db::write (or WriteTransaction) is open on this connection.
    bool in_transaction() const;
    // Outside a transaction, replaces a handle that failed for good (a read-only or I/O
    // error on SQLite) with a newly opened one; keeps the old one when opening fails,
    // so the next use says why. The pool calls it before lending a connection.
    void reopen_if_broken();

    // The driver's handle, for the database module's own code (src/db/); its type is
    // complete only there.
    struct Native;
    Native& native() { return *m_native; }
    const Native& native() const { return *m_native; }

  private:
    ConnectionOptions m_options;
    std::string m_display_name;
    std::unique_ptr<Native> m_native;
};

}  // namespace gallery::db
