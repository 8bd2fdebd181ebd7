#pragma once
// Up to `size` connections shared by the server's worker threads: a thread borrows
// one for a request and gives it back (SQLiteCpp objects are not shared between
// threads at the same time). PostgreSQL's are all opened at the start (a server that
// cannot reach its database refuses to start). SQLite's are opened as the load first
// needs them: each holds its own parsed schema and caches (about 125 KB), which an
// idle server with 128 workers need not carry.

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

#include "gallery/db/connection.hpp"

namespace gallery::db {

// Thrown by ConnectionPool::acquire when no connection came free within the pool's
// wait. The request path answers it once (api::handle_request: 503 + Retry-After).
class PoolTimeout : public std::runtime_error {
  public:
    explicit PoolTimeout(std::chrono::milliseconds waited)
        : std::runtime_error("no database connection came free within " +
                             std::to_string(waited.count()) + " ms") {}
};

class ConnectionPool {
  public:
    // Throws StartupError when the database cannot be opened. `wait`: how long
    // acquire() waits for a free connection (nullopt: as long as it takes).
    ConnectionPool(const ConnectionOptions& options, std::size_t size,
                   std::optional<std::chrono::milliseconds> wait = std::nullopt);

    class Lease {
      public:
        Lease(ConnectionPool& pool, Connection* connection)
            : m_pool(&pool), m_connection(connection) {}
        ~Lease();
        Lease(Lease&& other) noexcept;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Lease& operator=(Lease&&) = delete;
        Connection& operator*() const { return *m_connection; }
        Connection* operator->() const { return m_connection; }

      private:
        ConnectionPool* m_pool;
        Connection* m_connection;
    };

    // Blocks until a connection is free, at most the pool's wait: then throws
    // PoolTimeout. Throws StartupError when a SQLite connection opened now cannot be.
    Lease acquire();

    // Requests waiting for a connection right now, and the waits' total so far (for
    // /metrics: gallery_db_pool_wait_seconds).
    static constexpr std::array<double, 7> k_wait_buckets{0.001, 0.01, 0.1, 0.5, 1, 2, 5};
    struct WaitStats {
        std::size_t waiting = 0;
        std::uint64_t acquires = 0;   // every acquire, waiting or not
        std::uint64_t waits = 0;      // acquires that found no free connection
        std::uint64_t timeouts = 0;   // acquires that gave up (PoolTimeout)
        double wait_seconds_sum = 0;  // time spent waiting
        std::array<std::uint64_t, k_wait_buckets.size()> wait_buckets{};  // of the waits
        std::size_t size = 0;
        std::size_t in_use = 0;
    };
    WaitStats wait_stats() const;

  private:
    ConnectionOptions m_options;
    std::size_t m_size;
    std::optional<std::chrono::milliseconds> m_wait;
    WaitStats m_stats;
    std::size_t m_opening = 0;  // connections being opened outside the mutex
    std::vector<std::unique_ptr<Connection>> m_all;
    std::vector<Connection*> m_free;
    mutable std::mutex m_mutex;
    std::condition_variable m_available;
};

}  // namespace gallery::db
