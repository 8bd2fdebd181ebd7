#include "gallery/backup/schedule.hpp"

#include "gallery/common/log.hpp"

namespace gallery::backup {

Schedule::Schedule(const config::Config& config, db::ConnectionOptions database,
                   std::function<void(const Result<Manifest>&)> on_run)
    : m_config(config),
      m_database(std::move(database)),
      m_destination(open_destination(m_config)),
      m_on_run(std::move(on_run)) {
    if (m_config.backup_every.count() > 0) m_thread = std::thread([this] { loop(); });
}

Schedule::~Schedule() {
    stop();
}

void Schedule::stop() {
    m_stop.stop();
    if (m_thread.joinable()) m_thread.join();
}

Result<Manifest> Schedule::run_once(std::optional<db::Connection>& connection) {
    // Opened here: a database that cannot be opened now is tried again next time.
    if (!connection) {
        try {
            connection.emplace(m_database);
        } catch (const std::exception& e) {
            return fail(ErrorKind::database, e.what());
        }
    }
    auto taken = take(*connection, *m_destination, now_micros());
    if (!taken) return taken;
    auto pruned = prune(*connection, *m_destination,
                        {m_config.backup_keep, m_config.backup_max_age}, now_micros());
    if (!pruned) return std::unexpected(pruned.error());
    for (const std::string& name : *pruned) log::info("backup: removed " + name + " (retention)");
    return taken;
}

void Schedule::loop() {
    std::optional<db::Connection> connection;
    for (;;) {
        if (m_stop.wait_for(m_config.backup_every)) return;
        const Result<Manifest> run = run_once(connection);
        if (run) {
            log::info("backup: " + run->name + " taken",
                      {{"images", run->image_count},
                       {"queued", run->queue_count},
                       {"bytes", static_cast<std::int64_t>(run->size_bytes)}});
        } else {
            log::error("backup (every " + std::to_string(m_config.backup_every.count()) +
                       " s): " + run.error().message + "; trying again at the next interval");
            if (run.error().kind == ErrorKind::database) connection.reset();
        }
        if (m_on_run) m_on_run(run);
    }
}

}  // namespace gallery::backup
