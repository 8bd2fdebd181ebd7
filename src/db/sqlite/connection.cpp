#include "gallery/db/connection.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>

#include "db/sqlite/native.hpp"
#include "gallery/common/error.hpp"

namespace gallery::db {
namespace {

// The database holds the generated API key and every client's data: it is created
// 0600 whatever the umask, and SQLite gives its -wal and -shm files the same mode.
void create_private_file(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return;  // another process created it first
        throw StartupError(ErrorKind::database, "cannot create the database " + path.string() +
                                                    ": " + std::strerror(errno));
    }
    ::fchmod(fd, 0600);  // the umask may have taken bits from 0600 too: set them exactly
    ::close(fd);
}

}  // namespace

SqliteConnection::SqliteConnection(SQLite::Database database,
                                   std::chrono::milliseconds busy_timeout,
                                   std::shared_ptr<WriterTurn> turn)
    : m_database(std::move(database)), m_busy_timeout(busy_timeout), m_turn(std::move(turn)) {
    sqlite3_busy_handler(m_database.getHandle(), &SqliteConnection::on_busy, this);
}

int SqliteConnection::on_busy(void* context, int times_called) {
    auto& self = *static_cast<SqliteConnection*>(context);
    const auto now = std::chrono::steady_clock::now();
    if (times_called == 0) self.m_busy_since = now;
    if (now - self.m_busy_since >= self.m_busy_timeout) return 0;  // SQLITE_BUSY
    const auto pause = std::chrono::microseconds(100 << std::min(times_called, 4));
    std::this_thread::sleep_for(
        std::min<std::chrono::microseconds>(pause, std::chrono::milliseconds{2}));
    return 1;
}

namespace {

[[noreturn]] void throw_turn_timeout(std::chrono::milliseconds busy_timeout) {
    throw Failure("database is locked: this process's other writers held it for " +
                  std::to_string(busy_timeout.count()) + " ms (busy_timeout)");
}

}  // namespace

void SqliteConnection::take_write_turn() {
    if (m_turn && !m_turn->take(m_busy_timeout)) throw_turn_timeout(m_busy_timeout);
}

void SqliteConnection::run_in_write_turn(FunctionRef transaction) {
    if (!m_turn) {
        transaction();
    } else if (!m_turn->run(transaction, m_busy_timeout)) {
        throw_turn_timeout(m_busy_timeout);
    }
}

void SqliteConnection::give_back_write_turn() {
    if (m_turn) m_turn->give_back();
}

namespace {

// Two processes creating one new file at once: the second's switch to WAL can meet the
// first's transaction in rollback-journal mode, where SQLite answers SQLITE_BUSY at once
// instead of calling the busy handler (a lock upgrade it will not wait for). Retried
// until the busy timeout, as a lock wait would be.
void switch_to_wal(SQLite::Database& database, std::chrono::milliseconds busy_timeout) {
    const auto give_up_at = std::chrono::steady_clock::now() + busy_timeout;
    for (;;) {
        try {
            database.exec("PRAGMA journal_mode=WAL");
            return;
        } catch (const SQLite::Exception& e) {
            if (e.getErrorCode() != SQLITE_BUSY || std::chrono::steady_clock::now() > give_up_at)
                throw;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

// Once, before the first connection (sqlite3_config must precede SQLite's
// initialisation): no allocation statistics, which take a process-wide mutex around
// every malloc and free inside SQLite. Nothing here reads them.
void configure_sqlite_once() {
    static std::once_flag configured;
    std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

std::unique_ptr<Connection::Native> open_sqlite(const ConnectionOptions& options) {
    configure_sqlite_once();
    const bool exists = std::filesystem::exists(options.path);
    if (!exists && !options.create_if_missing) {
        throw StartupError(ErrorKind::database,
                           "database " + options.path.string() +
                               " does not exist: run `gallery migrate` to create it");
    }
    if (!exists && options.path.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(options.path.parent_path(), ec);
        if (ec) {
            throw StartupError(ErrorKind::database, "cannot create the database folder " +
                                                        options.path.parent_path().string() + ": " +
                                                        ec.message());
        }
    }
    if (!exists) create_private_file(options.path);
    try {
        if (options.foreign_read_only) {
            return std::make_unique<SqliteConnection>(
                SQLite::Database(options.path, SQLite::OPEN_READONLY,
                                 static_cast<int>(options.busy_timeout.count())),
                options.busy_timeout, nullptr);
        }
        // NOMUTEX: a connection is used by one thread at a time (the pool lends it whole,
        // and the writer turn hands it over under its own lock), so SQLite's per-call
        // connection mutex is only cost (with MEMSTATUS's mutex and the time zone lock,
        // pthread mutex calls were 12.6% of serve's CPU under a list load; the three
        // went together, 8,265-8,586 -> 9,181-9,957 list requests/s, BENCHMARKS).
        const int flags = SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX |
                          (options.create_if_missing ? SQLite::OPEN_CREATE : 0);
        auto native = std::make_unique<SqliteConnection>(
            SQLite::Database(options.path, flags, static_cast<int>(options.busy_timeout.count())),
            options.busy_timeout, WriterTurn::for_file(options.path));
        SQLite::Database& database = native->database();
        // WAL: readers never block the writer. synchronous=NORMAL: a commit survives a
        // process crash; a power cut may lose the last commits, which leaves rows and
        // files consistent (a lost delete brings the image row back with its file).
        switch_to_wal(database, options.busy_timeout);
        database.exec("PRAGMA synchronous=NORMAL");
        database.exec("PRAGMA foreign_keys=ON");
        if (options.cache_kib > 0) {
            database.exec("PRAGMA cache_size=-" + std::to_string(options.cache_kib));
        }
        if (options.checkpoint_in_background) {
            database.exec("PRAGMA wal_autocheckpoint=0");
        } else if (options.wal_autocheckpoint_pages > 0) {
            database.exec("PRAGMA wal_autocheckpoint=" +
                          std::to_string(options.wal_autocheckpoint_pages));
        }
        if (options.temp_in_memory) database.exec("PRAGMA temp_store=MEMORY");
        return native;
    } catch (const std::exception& e) {
        throw StartupError(ErrorKind::database,
                           "cannot open database " + options.path.string() + ": " + e.what());
    }
}

}  // namespace gallery::db
