// POST /api/cleanup/run/ answers within its time budget even when storage is slow;
// the run goes on in the background, keeps its leases, and finishes its batch.

#include "gallery/db/statement.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "gallery/api/api.hpp"
#include "gallery/db/transaction.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/storage/local_storage.hpp"
#include "support/faulty_storage.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;

namespace {

const std::string k_key = "budget-test-key-0123456789abcdef";

struct SlowStorageServer {
    testing::TempDir dir;
    config::Config config = [this] {
        config::Config c = config::defaults();
        c.db_path = dir.db_path();
        c.media_root = dir.media_root();
        c.cleanup_request_budget = std::chrono::milliseconds{300};
        return c;
    }();
    db::Connection setup = testing::open_migrated(config.db_path);
    db::ConnectionPool pool{{.path = config.db_path}, 2};
    std::unique_ptr<storage::Storage> local = storage::make_local_storage(config.media_root);
    // Injected: a store that takes 1.5 s to answer (a real one is slow only on its own terms).
    testing::FaultyStorage slow{*local};
    api::ClientRegistry clients{"", system_clock()};
    api::ApiContext context{pool, slow, config, clients, k_key, system_clock(), "budget-test"};
    api::Router router = api::make_router(context);

    void queue_files(int count) {
        db::WriteTransaction tx(setup);
        for (int i = 0; i < count; ++i) {
            const std::string key = "images/slow" + std::to_string(i) + ".jpg";
            testing::write_file(config.media_root, key, "0123456789");
            REQUIRE(queue::enqueue(setup, {key, "c", 10}, system_clock()()).value());
        }
        tx.commit();
    }

    api::Response run_cleanup() {
        api::Request request;
        request.method = "POST";
        request.path = "/api/cleanup/run/";
        request.headers["X-API-Key"] = k_key;
        return api::handle_request(router, context, request);
    }
};

}  // namespace

TEST_CASE("cleanup/run answers within its budget and the run finishes in the background", "[threads]") {
    SlowStorageServer server;
    server.queue_files(3);
    std::atomic<bool> delayed{false};
    server.slow.before_each_remove = [&](const std::string&) {
        if (!delayed.exchange(true)) std::this_thread::sleep_for(std::chrono::milliseconds{1500});
    };
    const auto started = std::chrono::steady_clock::now();
    const api::Response response = server.run_cleanup();
    const auto waited = std::chrono::steady_clock::now() - started;
    CHECK(waited < std::chrono::milliseconds{1000});
    CHECK(response.status == 202);
    const auto body = nlohmann::json::parse(response.body);
    CHECK(body["still_running"] == true);
    CHECK(body["message"].get<std::string>().starts_with(
        "Cleanup is still running after the request's 0.3 s budget"));

    server.context.background->wait_all();
    CHECK(queue::pending_count(server.setup).value() == 0);
    CHECK_FALSE(std::filesystem::exists(server.config.media_root / "images/slow0.jpg"));
    CHECK(db::query_int64(server.setup, "SELECT deleted FROM cleanup_runs WHERE trigger = 'api'") ==
          3);
}

TEST_CASE("cleanup/run within its budget answers with what it did", "[threads]") {
    SlowStorageServer server;
    server.queue_files(2);
    const api::Response response = server.run_cleanup();
    CHECK(response.status == 200);
    const auto body = nlohmann::json::parse(response.body);
    CHECK(body["deleted"] == 2);
    CHECK_FALSE(body.contains("still_running"));
}
