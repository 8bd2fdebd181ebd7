#pragma once
// Up to `size` connections shared by the server's worker threads: a thread borrows
// one for a request and gives it back (SQLiteCpp objects are not shared between
// threads at the same time). PostgreSQL's are all opened at the start (a server that
// cannot reach its database refuses to start). SQLite's are opened as the load first
// needs them: each holds its own parsed schema and caches (about 125 KB), which an
// idle server with 128 workers need not carry.

#include <condition_variable>
#include <mutex>
#include <vector>

#include "gallery/db/connection.hpp"

namespace gallery::db {

class ConnectionPool {
  public:
    // Throws StartupError when the database cannot be opened.
    ConnectionPool(const ConnectionOptions& options, std::size_t size);

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

    // Blocks until a connection is free. Throws StartupError when a SQLite connection
    // opened now cannot be.
    Lease acquire();

  private:
    ConnectionOptions m_options;
    std::size_t m_size;
    std::size_t m_opening = 0;  // connections being opened outside the mutex
    std::vector<std::unique_ptr<Connection>> m_all;
    std::vector<Connection*> m_free;
    std::mutex m_mutex;
    std::condition_variable m_available;
};

}  // namespace gallery::db
