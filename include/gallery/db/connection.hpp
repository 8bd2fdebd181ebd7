#pragma once
// One database connection set up the way gallery needs it. SQLite: WAL, busy
// timeout, foreign keys. A connection is used by one thread at a time (the server
// borrows them from db::ConnectionPool).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace gallery::db {

struct ConnectionOptions {
    std::filesystem::path path;
    // migrate creates the file (and its folder); every other command expects it.
    bool create_if_missing = false;
    std::chrono::milliseconds busy_timeout{10'000};
    // > 0: reads go through one shared map of the file instead of each connection's
    // private page cache (the server's many connections share it). Mapped pages count
    // in RSS as they are touched, so batch commands leave it off.
    std::uint64_t mmap_bytes = 0;
};

class Connection {
  public:
    // Throws StartupError (exit code 1) with a sentence when the file cannot be opened.
    explicit Connection(const ConnectionOptions& options);
    ~Connection();
    Connection(Connection&&) noexcept;
    Connection& operator=(Connection&&) noexcept;

    const std::filesystem::path& path() const { return m_path; }

    // The driver's handle, for the database module's own code (src/db/); its type is
    // complete only there.
    struct Native;
    Native& native() { return *m_native; }

  private:
    std::filesystem::path m_path;
    std::unique_ptr<Native> m_native;
};

}  // namespace gallery::db
