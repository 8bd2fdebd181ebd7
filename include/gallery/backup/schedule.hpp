#pragma once
// The backups of `gallery serve --backup-every`: a thread that takes a backup every
// `config.backup_every` with its own connection (take, then prune by retention), as
// the systemd timer's `gallery backup` would. A failed run is logged and tried again
// at the next interval; stop() ends the wait at once (a backup under way finishes).

#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "gallery/backup/backup.hpp"
#include "gallery/common/stop_signal.hpp"
#include "gallery/config/config.hpp"
#include "gallery/db/connection.hpp"

namespace gallery::backup {

class Schedule {
  public:
    // Does nothing when config.backup_every is 0. `config` must outlive it. `on_run`
    // sees each run's backup or its error.
    Schedule(const config::Config& config, db::ConnectionOptions database,
             std::function<void(const Result<Manifest>&)> on_run = {});
    ~Schedule();
    Schedule(const Schedule&) = delete;
    Schedule& operator=(const Schedule&) = delete;

    void stop();

  private:
    void loop();
    Result<Manifest> run_once(std::optional<db::Connection>& connection);

    const config::Config& m_config;
    db::ConnectionOptions m_database;
    std::unique_ptr<Destination> m_destination;
    std::function<void(const Result<Manifest>&)> m_on_run;
    StopSignal m_stop;
    std::thread m_thread;
};

}  // namespace gallery::backup
