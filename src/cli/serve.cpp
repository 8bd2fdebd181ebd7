// gallery serve: the HTTP API of docs/API.md, /media/, /admin/, /healthz, /metrics;
// with --cleanup-every, the cleaner in-process (cleanup::Scheduler).

#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "cli/commands.hpp"
#include "gallery/admin/admin.hpp"
#include "gallery/api/api.hpp"
#include "gallery/api/api_key.hpp"
#include "gallery/api/cleanup_runner.hpp"
#include "gallery/backup/schedule.hpp"
#include "gallery/cleanup/cleaner.hpp"
#include "gallery/cleanup/scheduler.hpp"
#include "gallery/common/log.hpp"
#include "gallery/db/checkpointer.hpp"
#include "gallery/db/migrator.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/storage/factory.hpp"
#include "gallery/transport/http_server.hpp"

namespace gallery::cli {

namespace {

void print_banner(const config::Config& config, int port, const api::ApiKey& key) {
    const std::string base = "http://" + config.host + ":" + std::to_string(port);
    std::cout << "gallery serve: listening on " << base << "/ (database " << database_name(config)
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

// glibc gives an arena's free top back to the kernel once it exceeds 128 KiB (and
// raises that bound as it goes). Serve's workers each allocate and free a request's
// worth (bodies, JSON) in their own arena, so under load the arenas shrank and grew on
// nearly every request: madvise, page faults and TLB shootdowns across the workers.
// Keeping up to 4 MiB free per arena took updates under `scripts/loadtest --drain`
// from 579/s to 851/s and upload p99 from 52 to 33 ms. Large blocks (over 128 KiB, a
// fixed bound from here on) still go straight back to the kernel when freed.
void keep_freed_memory_for_reuse() {
    constexpr int k_trim_threshold = 4 * 1024 * 1024;
    mallopt(M_TRIM_THRESHOLD, k_trim_threshold);
}

Result<void> run_serve(const Globals& globals) {
    const config::Config config = load_config(globals);
    if (config.backup_every.count() > 0 && !config.db_url.empty()) {
        return fail(ErrorKind::invalid_input,
                    "backup_every snapshots a SQLite database; with PostgreSQL back up with "
                    "pg_dump or point-in-time recovery and record each with `gallery backup "
                    "--mark NAME` (README, \"Backups\")");
    }
    keep_freed_memory_for_reuse();
    // Block the stop signals in every thread; one thread waits for them and stops the server.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    db::ConnectionOptions database = database_options(config);
    // No mmap: SQLite unmaps a connection's whole map at its next read after another
    // connection wrote, so with writes about every request tore a map down (page
    // tables, TLB shootdowns across the workers). The same write empties the
    // connection's page cache, so a small cache per connection loses little and
    // bounds the RSS of many connections; the kernel's page cache holds the file.
    database.cache_kib = 512;
    // A list or a count that runs longer holds a pooled connection others need.
    database.read_statement_timeout = std::chrono::milliseconds{5000};
    database.checkpoint_in_background = true;
    const db::WalCheckpointer checkpointer(database, std::chrono::milliseconds{250});
    // SQLite connections are cheap: one per worker. A PostgreSQL connection is a server
    // process: db_pool_size of them, which the workers share.
    const std::size_t pool_size = config.db_url.empty()
                                      ? static_cast<std::size_t>(config.threads) + 1
                                      : static_cast<std::size_t>(config.db_pool_size);
    db::ConnectionPool pool(database, pool_size, config.db_pool_wait);
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
    if (config.db_url.empty())
        context.disk_reserve =
            std::make_shared<db::DiskReserve>(db::reserve_file_for(config.db_path));
    const api::Router router = admin::make_server_router(context);
    transport::HttpServer server(
        {config.host, config.port, config.threads, config.http_timeout, config.max_body_bytes,
         config.http_idle_timeout},
        [&](api::Request& request) { return api::handle_request(router, context, request); },
        [&](api::Request& request) { return api::admit_request(context, request); });
    const int port = server.bind();
    print_banner(config, port, key);

    api::Metrics& metrics = *context.metrics;
    // The built-in cleaner's connection: the cleaner's cache and in-memory journals;
    // the scheduler gives the cache back after each run (serve's idle RSS).
    cleanup::Scheduler scheduler(
        config, cleanup::cleaner_connection(database), *storage,
        {.on_run =
             [&](const cleanup::Report& report) { metrics.record_cleanup(report, "scheduler"); },
         .on_state =
             [&](bool storage_down, std::chrono::seconds next_run_in) {
                 metrics.set_scheduler_state(storage_down, next_run_in);
             }});
    backup::Schedule backups(config, database);
    // Started last, so that nothing can throw while it is joinable. A signal that
    // came since the banner is pending and is taken here; HttpServer::stop() holds
    // it until serve() listens.
    std::thread signal_waiter([&] {
        int received = 0;
        sigwait(&stop_signals, &received);
        log::info(std::string("received ") + (received == SIGINT ? "SIGINT" : "SIGTERM") +
                  ": finishing in-flight requests");
        server.stop();
    });
    server.serve();
    scheduler.stop();
    backups.stop();
    // serve() also returns when the listener fails: wake the waiter so it can be joined.
    ::kill(::getpid(), SIGTERM);
    signal_waiter.join();
    log::info("gallery serve: stopped");
    return {};
}

}  // namespace

void add_serve_command(CLI::App& app, Globals& globals, Command& selected) {
    CLI::App* command = app.add_subcommand("serve",
                                           "Serve the HTTP API (and /media/ for local storage)\n"
                                           "  e.g. gallery serve --port 8000 --cleanup-every 5m");
    command->footer(
        "Examples:\n  gallery serve --port 8000 --cleanup-every 5m\n  GALLERY_API_KEY=$(openssl "
        "rand -hex 32) gallery serve --host 0.0.0.0 --log-format json");
    add_setting_flag(*command, globals, "--host", "host", "Address to listen on");
    add_setting_flag(*command, globals, "--port", "port", "Port (0 picks a free one)");
    add_setting_flag(*command, globals, "--threads", "threads", "Worker threads");
    add_setting_flag(*command, globals, "--timeout", "http_timeout_seconds",
                     "Read/write timeout in seconds");
    add_setting_flag(*command, globals, "--max-body-mb", "max_body_mb", "Largest request body");
    add_setting_flag(*command, globals, "--cleanup-every", "cleanup_every",
                     "Run the cleaner inside the server this often, e.g. 5m (0: off)");
    add_setting_flag(*command, globals, "--backup-every", "backup_every",
                     "Take a backup inside the server this often, e.g. 6h (0: off; SQLite)");
    add_setting_flag(*command, globals, "--metrics-public", "metrics_public",
                     "true: /metrics without the API key");
    command->callback(
        [&globals, &selected] { selected = [&globals] { return run_serve(globals); }; });
}

}  // namespace gallery::cli
