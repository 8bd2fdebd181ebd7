#include "gallery/cleanup/scheduler.hpp"

#include <malloc.h>

#include <optional>
#include <string>

#include "gallery/cleanup/cleaner.hpp"
#include "gallery/cleanup/run_log.hpp"
#include "gallery/common/log.hpp"
#include "gallery/db/statement.hpp"
#include "gallery/queue/queue.hpp"

namespace gallery::cleanup {

Scheduler::Scheduler(const config::Config& config, db::ConnectionOptions database,
                     storage::Storage& storage, SchedulerObserver observer)
    : m_config(config),
      m_database(std::move(database)),
      m_storage(storage),
      m_observer(std::move(observer)) {
    if (config.cleanup_every.count() <= 0) return;
    m_thread = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() {
    stop();
}

void Scheduler::stop() {
    m_stop.stop();
    if (m_thread.joinable()) m_thread.join();
}

void Scheduler::loop() {
    // Opened in the loop: a database that is down when the server starts (or that
    // PostgreSQL refuses for a while) is tried again at the next run.
    std::optional<db::Connection> connection;
    const std::string owner = queue::make_lease_owner() + ":scheduler";
    int consecutive_outages = 0;
    std::chrono::seconds delay = m_config.cleanup_every;
    if (m_observer.on_state) m_observer.on_state(false, delay);
    for (;;) {
        if (m_stop.wait_for(delay)) return;
        if (!connection) {
            try {
                connection.emplace(m_database);
            } catch (const std::exception& e) {
                log::warn(std::string("cleanup (scheduler): ") + e.what() + "; trying again later");
                delay = m_config.cleanup_every;
                continue;
            }
        }
        Options options = options_from(m_config);
        options.until_empty = true;
        options.max_time = m_config.cleanup_every;
        options.stop_requested = [this] { return m_stop.requested(); };
        Cleaner cleaner(*connection, m_storage, options, system_clock(), owner);
        const TimedRun run =
            run_and_record(cleaner, *connection, "scheduler", system_clock(), RunLogLine::write);
        // The page cache a run filled (up to cleaner_connection's 20 MiB) is not kept
        // between runs: serve's memory stays what its requests need. The freed pages go
        // to malloc, which keeps them in this thread's arena until trimmed here
        // (`scripts/bench --only cleaner`, serve's built-in cleaner: its RSS after the run).
        try {
            db::release_cache_memory(*connection);
            ::malloc_trim(0);
        } catch (const std::exception& e) {
            // Only memory is at stake; the next run uses the connection as it is.
            log::warn(std::string("cleanup (scheduler): ") + e.what());
        }
        if (m_observer.on_run) m_observer.on_run(run.report);
        // A run with nothing due says nothing about storage: the state stays.
        if (stopped_by_storage(run.report)) {
            ++consecutive_outages;
        } else if (run.report.processed > 0) {
            consecutive_outages = 0;
        }
        delay = outage_delay(m_config.cleanup_every, consecutive_outages);
        if (m_observer.on_state) m_observer.on_state(consecutive_outages > 0, delay);
        if (stopped_by_storage(run.report)) {
            log::warn("cleanup (scheduler): storage unavailable; backing off",
                      {{"consecutive_outages", std::int64_t{consecutive_outages}},
                       {"next_run_in_seconds", static_cast<std::int64_t>(delay.count())}});
        }
    }
}

}  // namespace gallery::cleanup
