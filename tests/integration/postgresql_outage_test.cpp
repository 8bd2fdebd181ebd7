// PostgreSQL stopped and started again under a running `gallery serve`: requests
// answer 503 with a sentence within their timeout (never a hang, never a 500),
// /healthz says the database is down, `gallery cleanup` exits 1, and service
// resumes by itself; nothing acknowledged is lost.

#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "gallery/db/connection.hpp"
#include "gallery/db/statement.hpp"
#include "support/api_server.hpp"
#include "support/fixtures.hpp"
#include "support/postgres_cluster.hpp"
#include "support/process.hpp"
#include "support/served.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr const char* k_key = "outage-test-key-0123456789abcdef";

std::set<std::string> column(db::Connection& database, const std::string& sql) {
    std::set<std::string> values;
    for (db::Statement query(database, sql); query.step();) values.insert(query.text(0));
    return values;
}

}  // namespace

TEST_CASE("postgresql outage: requests answer 503 while the server is down and resume after",
          "[threads]") {
    testing::TempDir dir;
    testing::PostgresCluster cluster;
    const std::string url = cluster.create_database("outage");
    const std::map<std::string, std::string> env{{"GALLERY_DB", url},
                                                 {"GALLERY_MEDIA_ROOT", dir.media_root().string()},
                                                 {"GALLERY_API_KEY", k_key},
                                                 {"GALLERY_DB_POOL_SIZE", "4"},
                                                 {"GALLERY_HTTP_TIMEOUT_SECONDS", "10"}};
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    const testing::ServedProcess served = testing::start_serve(env, dir.path() / "serve.out");
    httplib::Client client("127.0.0.1", served.port);
    client.set_default_headers({{"X-API-Key", k_key}});
    client.set_read_timeout(20, 0);

    // Uploads keep coming the whole time; each answer is 201 (kept) or 503.
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::set<std::string> acknowledged;
    std::map<int, int> statuses;
    std::thread uploader([&] {
        httplib::Client own("127.0.0.1", served.port);
        own.set_default_headers({{"X-API-Key", k_key}});
        own.set_read_timeout(20, 0);
        for (int i = 0; !stop; ++i) {
            auto answer = testing::upload(own, "u" + std::to_string(i) + ".jpg",
                                          testing::fake_image(".jpg"), "outage-client");
            std::lock_guard lock(mutex);
            if (!answer) {
                ++statuses[0];
                continue;
            }
            ++statuses[answer->status];
            if (answer->status == 201) {
                acknowledged.insert(
                    nlohmann::json::parse(answer->body)["filename"].get<std::string>());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));

    cluster.pause();
    const auto down_at = SteadyClock::now();
    auto listed = client.Get("/api/list/");
    REQUIRE(listed);
    CHECK(listed->status == 503);
    CHECK(listed->body.find("The database is unavailable") != std::string::npos);
    CHECK(listed->body.find("ERROR") == std::string::npos);  // no driver text
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 503);
    CHECK(nlohmann::json::parse(health->body)["database"] == "down");
    CHECK(SteadyClock::now() - down_at < std::chrono::seconds(10));
    const auto cleanup = testing::run_process({GALLERY_BINARY, "cleanup"}, {.environment = env});
    CHECK(cleanup.exit_code == 1);
    CHECK(cleanup.err.find("cannot connect to the database") != std::string::npos);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));

    cluster.resume();
    const auto up_at = SteadyClock::now();
    bool resumed = false;
    while (!resumed && SteadyClock::now() - up_at < std::chrono::seconds(15)) {
        auto again = client.Get("/healthz");
        resumed = again && again->status == 200;
        if (!resumed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(resumed);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    stop = true;
    uploader.join();

    INFO("statuses seen: " << nlohmann::json(statuses).dump());
    CHECK(statuses[201] > 0);
    CHECK(statuses[503] > 0);
    CHECK(statuses.size() == 2);  // 201 and 503 only: no 500, no dropped connection
    db::Connection database(testing::database_options_for(url));
    const auto names = column(database, "SELECT filename FROM images");
    for (const auto& name : acknowledged) {
        INFO(name);
        CHECK(names.contains(name));
        CHECK(std::filesystem::exists(dir.media_root() / "images" / name));
    }
    // A refused upload left no object behind (or queued it): every file is a listed image
    // or waits in the queue.
    std::set<std::string> accounted = column(database, "SELECT storage_key FROM images");
    accounted.merge(column(database, "SELECT file_path FROM deletion_queue"));
    accounted.merge(column(database, "SELECT storage_key FROM upload_intents"));
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.media_root())) {
        if (!entry.is_regular_file()) continue;
        const std::string key = entry.path().lexically_relative(dir.media_root()).string();
        INFO(key);
        CHECK(accounted.contains(key));
    }
    ::kill(served.pid, SIGTERM);
    const int serve_status = testing::wait_process(served.pid);
    INFO("serve's errors: " << testing::read_text_file(dir.path() / "serve.out.err"));
    CHECK(serve_status == 0);
}

TEST_CASE("postgresql outage: a statement whose connection was lost runs again on a new one") {
    testing::PostgresCluster cluster;
    const std::string url = cluster.create_database("lost");
    db::Connection connection(testing::database_options_for(url));
    db::Connection other(testing::database_options_for(url));
    db::Statement count(connection, "SELECT COUNT(*) FROM pg_class WHERE relname = ?1");
    count.bind(1, "pg_class");
    REQUIRE(count.step());
    count.reset();
    const std::int64_t backend = db::query_int64(connection, "SELECT pg_backend_pid()");
    db::execute_script(other, "SELECT pg_terminate_backend(" + std::to_string(backend) + ")");
    // The server closed the connection: this use fails as "unavailable", not as a bug...
    CHECK_THROWS_AS(count.step(), db::Unavailable);
    count.reset();
    // ...and the next one reconnects and prepares the statement again.
    REQUIRE(count.step());
    CHECK(count.int64(0) == 1);
    CHECK(db::query_int64(connection, "SELECT pg_backend_pid()") != backend);
}
