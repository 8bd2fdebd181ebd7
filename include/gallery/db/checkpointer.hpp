#pragma once
// Copies SQLite's write-ahead log into the database file from a thread of its own,
// for connections opened with checkpoint_in_background: no writer's COMMIT pays for
// the copy and its fsync while the writers behind it wait. A PASSIVE checkpoint
// neither takes the write lock nor waits for readers; it copies what it can.
// Does nothing on PostgreSQL.

#include <chrono>
#include <thread>

#include "gallery/common/stop_signal.hpp"

#include "gallery/db/connection.hpp"

namespace gallery::db {

class WalCheckpointer {
  public:
    // Throws StartupError when the database cannot be opened.
    WalCheckpointer(const ConnectionOptions& options, std::chrono::milliseconds every);
    // Runs one last checkpoint, then stops.
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  private:
    void run(Connection connection, std::chrono::milliseconds every);

    StopSignal m_stop;
    std::thread m_thread;
};

}  // namespace gallery::db
