// gallery serve: the HTTP API of shared/API.md, /media/ for the local backend, /healthz.

#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/commands.hpp"
#include "gallery/api/api.hpp"
#include "gallery/api/api_key.hpp"
#include "gallery/api/cleanup_runner.hpp"
#include "gallery/api/http_server.hpp"
#include "gallery/cleanup/cleaner.hpp"
#include "gallery/common/log.hpp"
#include "gallery/db/migrator.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/storage/factory.hpp"

namespace gallery::cli {

namespace {

// `serve --cleanup-every`: the cleaner in a thread of the server, with its own
// connection and the same leases as cron runs. stop() ends it after the current
// batch, so it holds no lease once the server has stopped.
class Scheduler {
  public:
    Scheduler(const config::Config& config, storage::Storage& storage, api::Metrics& metrics) {
        if (config.cleanup_every.count() <= 0) return;
        m_thread =
            std::thread([this, &config, &storage, &metrics] { loop(config, storage, metrics); });
    }
    ~Scheduler() { stop(); }
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    void stop() {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_wake.notify_all();
        if (m_thread.joinable()) m_thread.join();
    }

  private:
    bool stopping() {
        std::lock_guard lock(m_mutex);
        return m_stopping;
    }

    void loop(const config::Config& config, storage::Storage& storage, api::Metrics& metrics) {
        db::Connection connection({.path = config.db_path});
        const std::string owner = queue::make_lease_owner() + ":scheduler";
        // While storage is down the runs back off (doubling, at most an hour), so an
        // outage costs a request every few minutes instead of one every interval.
        int consecutive_outages = 0;
        std::chrono::seconds delay = config.cleanup_every;
        metrics.set_scheduler_state(false, delay);
        for (;;) {
            {
                std::unique_lock lock(m_mutex);
                if (m_wake.wait_for(lock, delay, [this] { return m_stopping; })) return;
            }
            cleanup::Options options = cleanup::options_from(config);
            options.until_empty = true;
            options.max_time = config.cleanup_every;
            options.stop_requested = [this] { return stopping(); };
            const UnixMicros started_at = system_clock()();
            const cleanup::Report report =
                cleanup::Cleaner(connection, storage, options, system_clock(), owner).run();
            api::record_cleanup_run(metrics, connection, "scheduler", started_at, system_clock()(),
                                    report);
            // A run with nothing due says nothing about storage: the state stays.
            if (cleanup::stopped_by_storage(report)) {
                ++consecutive_outages;
            } else if (report.processed > 0) {
                consecutive_outages = 0;
            }
            const bool storage_down = consecutive_outages > 0;
            delay = cleanup::outage_delay(config.cleanup_every, consecutive_outages);
            metrics.set_scheduler_state(storage_down, delay);
            if (cleanup::stopped_by_storage(report)) {
                log::warn("cleanup (scheduler): storage unavailable; backing off",
                          {{"consecutive_outages", std::int64_t{consecutive_outages}},
                           {"next_run_in_seconds", static_cast<std::int64_t>(delay.count())}});
            }
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    std::thread m_thread;
};

void print_banner(const config::Config& config, int port, const api::ApiKey& key) {
    const std::string base = "http://" + config.host + ":" + std::to_string(port);
    std::cout << "gallery serve: listening on " << base << "/ (database " << config.db_path.string()
              << ", "
              << (config.storage == config::StorageKind::local
                      ? "media in " + config.media_root.string()
                      : std::string("S3 storage"))
              << ")\n";
    if (key.generated) {
        // Printed on purpose: a loopback-only key the person at this terminal needs to call the
        // API.
        std::cout << "API key (generated for this loopback listener, kept in the database): "
                  << key.value << "\n"
                  << "  try: curl -H 'X-API-Key: " << key.value << "' " << base << "/api/list/\n";
    } else {
        std::cout << "API key: the configured one (" << config::redact(key.value)
                  << "); send it as X-API-Key\n";
    }
    std::cout << "Stop with Ctrl-C (in-flight requests finish first).\n" << std::flush;
}

// /media/ serves files of the media root: the database (its key, every client's
// rows) and its -wal/-shm must not be among them, whatever /media/ checks.
void refuse_database_under_media_root(const config::Config& config) {
    if (config.storage != config::StorageKind::local) return;
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path media = fs::weakly_canonical(fs::absolute(config.media_root), ec);
    const fs::path db = fs::weakly_canonical(fs::absolute(config.db_path), ec);
    if (ec) return;
    if (!media.has_filename()) media = media.parent_path();  // "media/" names "media"
    const auto [media_end, db_end] = std::ranges::mismatch(media, db);
    if (media_end == media.end()) {
        throw StartupError(exit_code::usage,
                           "the database " + config.db_path.string() + " is under the media root " +
                               config.media_root.string() +
                               ": move one of them (the media root is served over HTTP)");
    }
}

int run_serve(const Globals& globals) {
    const config::Config config = load_config(globals);
    refuse_database_under_media_root(config);
    // Block the stop signals in every thread; one thread waits for them and stops the server.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    constexpr std::uint64_t k_mmap_bytes = 256ull * 1024 * 1024;
    db::ConnectionPool pool({.path = config.db_path, .mmap_bytes = k_mmap_bytes},
                            static_cast<std::size_t>(config.threads) + 1);
    {
        auto connection = pool.acquire();
        db::require_current_schema(*connection);
    }
    const std::unique_ptr<storage::Storage> storage = storage::open_storage(config);
    const api::ApiKey key = [&] {
        auto connection = pool.acquire();
        return api::choose_api_key(config, *connection);
    }();
    api::ClientRegistry clients(config.client_ids_url, system_clock());
    api::ApiContext context{
        pool, *storage, config, clients, key.value, system_clock(), queue::make_lease_owner()};
    context.version = GALLERY_VERSION " (" GALLERY_GIT_COMMIT ")";
    const api::Router router = api::make_router(context);
    api::HttpServer server(
        {config.host, config.port, config.threads, config.http_timeout, config.max_body_bytes,
         config.http_idle_timeout},
        [&](api::Request& request) { return api::handle_request(router, context, request); },
        [&](api::Request& request) { return api::admit_request(context, request); });
    const int port = server.bind();
    print_banner(config, port, key);

    std::thread signal_waiter([&] {
        int received = 0;
        sigwait(&stop_signals, &received);
        log::info(std::string("received ") + (received == SIGINT ? "SIGINT" : "SIGTERM") +
                  ": finishing in-flight requests");
        server.stop();
    });
    Scheduler scheduler(config, *storage, *context.metrics);
    server.serve();
    scheduler.stop();
    // serve() also returns when the listener fails: wake the waiter so it can be joined.
    ::kill(::getpid(), SIGTERM);
    signal_waiter.join();
    log::info("gallery serve: stopped");
    return exit_code::ok;
}

}  // namespace

void add_serve_command(CLI::App& app, Globals& globals, Command& selected) {
    CLI::App* command = app.add_subcommand("serve",
                                           "Serve the HTTP API (and /media/ for local storage)\n"
                                           "  e.g. gallery serve --port 8000 --cleanup-every 5m");
    command->footer(
        "Examples:\n  gallery serve --port 8000 --cleanup-every 5m\n  GALLERY_API_KEY=$(openssl "
        "rand -hex 32) gallery serve --host 0.0.0.0 --log-format json");
    add_setting_flag(*command, globals, "--host", "host",
                     "Address to listen on [GALLERY_HOST, default 127.0.0.1]");
    add_setting_flag(*command, globals, "--port", "port",
                     "Port [GALLERY_PORT, default 8000; 0 picks a free one]");
    add_setting_flag(*command, globals, "--threads", "threads",
                     "Worker threads [GALLERY_THREADS, default 128]");
    add_setting_flag(*command, globals, "--timeout", "http_timeout_seconds",
                     "Read/write timeout in seconds [GALLERY_HTTP_TIMEOUT_SECONDS, default 30]");
    add_setting_flag(*command, globals, "--max-body-mb", "max_body_mb",
                     "Largest request body [GALLERY_MAX_BODY_MB, default 10]");
    add_setting_flag(*command, globals, "--cleanup-every", "cleanup_every",
                     "Run the cleaner inside the server this often, e.g. 5m "
                     "[GALLERY_CLEANUP_EVERY, default 0: off]");
    add_setting_flag(*command, globals, "--metrics-public", "metrics_public",
                     "true: /metrics without the API key [GALLERY_METRICS_PUBLIC, default false]");
    command->callback(
        [&globals, &selected] { selected = [&globals] { return run_serve(globals); }; });
}

}  // namespace gallery::cli
