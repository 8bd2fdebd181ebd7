#include "gallery/db/connection.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <system_error>

#include "gallery/common/error.hpp"

namespace gallery::db {

Connection::Connection(const ConnectionOptions& options) : m_path(options.path) {
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
    try {
        const int flags =
            SQLite::OPEN_READWRITE | (options.create_if_missing ? SQLite::OPEN_CREATE : 0);
        m_database = std::make_unique<SQLite::Database>(
            options.path, flags, static_cast<int>(options.busy_timeout.count()));
        // WAL: readers never block the writer. synchronous=NORMAL: a commit survives a
        // process crash; a power cut may lose the last commits, which leaves rows and
        // files consistent (a lost delete brings the image row back with its file).
        m_database->exec("PRAGMA journal_mode=WAL");
        m_database->exec("PRAGMA synchronous=NORMAL");
        m_database->exec("PRAGMA foreign_keys=ON");
        if (options.mmap_bytes > 0) {
            m_database->exec("PRAGMA mmap_size=" + std::to_string(options.mmap_bytes));
        }
    } catch (const std::exception& e) {
        throw StartupError(exit_code::failure,
                           "cannot open database " + options.path.string() + ": " + e.what());
    }
}

Connection::~Connection() = default;
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;

}  // namespace gallery::db
