#include "gallery/db/connection.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

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
        throw StartupError(exit_code::failure, "cannot create the database " + path.string() +
                                                   ": " + std::strerror(errno));
    }
    ::fchmod(fd, 0600);  // the umask may have taken bits from 0600 too: set them exactly
    ::close(fd);
}

}  // namespace

std::unique_ptr<Connection::Native> open_sqlite(const ConnectionOptions& options) {
    const bool exists = std::filesystem::exists(options.path);
    if (!exists && !options.create_if_missing) {
        throw StartupError(exit_code::failure,
                           "database " + options.path.string() +
                               " does not exist: run `gallery migrate` to create it");
    }
    if (!exists && options.path.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(options.path.parent_path(), ec);
        if (ec) {
            throw StartupError(exit_code::failure, "cannot create the database folder " +
                                                       options.path.parent_path().string() + ": " +
                                                       ec.message());
        }
    }
    if (!exists) create_private_file(options.path);
    try {
        if (options.foreign_read_only) {
            return std::make_unique<SqliteConnection>(
                SQLite::Database(options.path, SQLite::OPEN_READONLY,
                                 static_cast<int>(options.busy_timeout.count())));
        }
        const int flags =
            SQLite::OPEN_READWRITE | (options.create_if_missing ? SQLite::OPEN_CREATE : 0);
        auto native = std::make_unique<SqliteConnection>(
            SQLite::Database(options.path, flags, static_cast<int>(options.busy_timeout.count())));
        SQLite::Database& database = native->database();
        // WAL: readers never block the writer. synchronous=NORMAL: a commit survives a
        // process crash; a power cut may lose the last commits, which leaves rows and
        // files consistent (a lost delete brings the image row back with its file).
        database.exec("PRAGMA journal_mode=WAL");
        database.exec("PRAGMA synchronous=NORMAL");
        database.exec("PRAGMA foreign_keys=ON");
        if (options.mmap_bytes > 0) {
            database.exec("PRAGMA mmap_size=" + std::to_string(options.mmap_bytes));
        }
        return native;
    } catch (const std::exception& e) {
        throw StartupError(exit_code::failure,
                           "cannot open database " + options.path.string() + ": " + e.what());
    }
}

}  // namespace gallery::db
