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
    m_stop.stop();
    m_thread.join();
}

void WalCheckpointer::run(Connection connection, std::chrono::milliseconds every) {
    while (!m_stop.wait_for(every)) checkpoint(connection);
    checkpoint(connection);
}

}  // namespace gallery::db
