#pragma once
// The in-process cleaner of `gallery serve --cleanup-every`: a thread that runs the
// cleaner every `config.cleanup_every` with its own connection and the same leases
// as cron runs. While storage is down the runs back off (doubling, at most an hour:
// outage_delay), so an outage costs a request every few minutes instead of one
// every interval. stop() ends it after the current batch, so it holds no lease once
// the server has stopped.

#include <chrono>
#include <functional>
#include <thread>

#include "gallery/cleanup/cleaner.hpp"
#include "gallery/common/stop_signal.hpp"
#include "gallery/config/config.hpp"
#include "gallery/db/connection.hpp"
#include "gallery/storage/storage.hpp"

namespace gallery::cleanup {

struct SchedulerObserver {
    // After each run (already recorded in cleanup_runs and logged).
    std::function<void(const Report&)> on_run;
    // Whether storage counts as down, and when the next run starts.
    std::function<void(bool storage_down, std::chrono::seconds next_run_in)> on_state;
};

class Scheduler {
  public:
    // Does nothing when config.cleanup_every is 0. `config` and `storage` must outlive it.
    // The thread opens its own connection with `database` (again after a run that
    // found the database unreachable).
    Scheduler(const config::Config& config, db::ConnectionOptions database,
              storage::Storage& storage, SchedulerObserver observer);
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    void stop();

  private:
    void loop();

    const config::Config& m_config;
    db::ConnectionOptions m_database;
    storage::Storage& m_storage;
    SchedulerObserver m_observer;
    StopSignal m_stop;
    std::thread m_thread;
};

}  // namespace gallery::cleanup
