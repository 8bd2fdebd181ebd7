#include "gallery/db/checkpointer.hpp"

#include "gallery/common/log.hpp"
#include "gallery/db/statement.hpp"

namespace gallery::db {
namespace {

void checkpoint(Connection& connection) {
    try {
        execute_script(connection, "PRAGMA wal_checkpoint(PASSIVE)");
    } catch (const std::exception& e) {
        // A busy or failed checkpoint leaves the log to the next one; nothing is lost.
        log::warn(std::string("database: WAL checkpoint: ") + e.what());
    }
}

}  // namespace

WalCheckpointer::WalCheckpointer(const ConnectionOptions& options,
                                 std::chrono::milliseconds every) {
    if (!options.postgresql_url.empty()) return;
    ConnectionOptions own = options;
    own.checkpoint_in_background = false;
    m_thread = std::thread(&WalCheckpointer::run, this, Connection(own), every);
}

WalCheckpointer::~WalCheckpointer() {
    if (!m_thread.joinable()) return;
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
    m_thread.join();
}

void WalCheckpointer::run(Connection connection, std::chrono::milliseconds every) {
    std::unique_lock lock(m_mutex);
    while (!m_wake.wait_for(lock, every, [this] { return m_stopping; })) {
        lock.unlock();
        checkpoint(connection);
        lock.lock();
    }
    lock.unlock();
    checkpoint(connection);
}

}  // namespace gallery::db
