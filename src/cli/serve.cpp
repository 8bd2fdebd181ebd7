// gallery serve: the HTTP API of shared/API.md, /media/ for the local backend, /healthz.

#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "cli/commands.hpp"
#include "gallery/api/api.hpp"
#include "gallery/api/api_key.hpp"
#include "gallery/api/http_server.hpp"
#include "gallery/common/log.hpp"
#include "gallery/db/migrator.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/storage/factory.hpp"

namespace gallery::cli {

namespace {

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

int run_serve(const Globals& globals) {
    const config::Config config = load_config(globals);
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
    const api::Router router = api::make_router(context);
    api::HttpServer server(
        {config.host, config.port, config.threads, config.http_timeout, config.max_body_bytes},
        [&](api::Request& request) { return api::handle_request(router, context, request); });
    const int port = server.bind();
    print_banner(config, port, key);

    std::thread signal_waiter([&] {
        int received = 0;
        sigwait(&stop_signals, &received);
        log::info(std::string("received ") + (received == SIGINT ? "SIGINT" : "SIGTERM") +
                  ": finishing in-flight requests");
        server.stop();
    });
    server.serve();
    // serve() also returns when the listener fails: wake the waiter so it can be joined.
    ::kill(::getpid(), SIGTERM);
    signal_waiter.join();
    log::info("gallery serve: stopped");
    return exit_code::ok;
}

}  // namespace

void add_serve_command(CLI::App& app, Globals& globals, Command& selected) {
    CLI::App* command =
        app.add_subcommand("serve", "Serve the HTTP API (and /media/ for local storage)");
    add_setting_flag(*command, globals, "--host", "host",
                     "Address to listen on [GALLERY_HOST, default 127.0.0.1]");
    add_setting_flag(*command, globals, "--port", "port",
                     "Port [GALLERY_PORT, default 8000; 0 picks a free one]");
    add_setting_flag(*command, globals, "--threads", "threads",
                     "Worker threads [GALLERY_THREADS, default 16]");
    add_setting_flag(*command, globals, "--timeout", "http_timeout_seconds",
                     "Read/write timeout in seconds [GALLERY_HTTP_TIMEOUT_SECONDS, default 30]");
    add_setting_flag(*command, globals, "--max-body-mb", "max_body_mb",
                     "Largest request body [GALLERY_MAX_BODY_MB, default 10]");
    command->callback(
        [&globals, &selected] { selected = [&globals] { return run_serve(globals); }; });
}

}  // namespace gallery::cli
