// The upload and delete paths under faults and concurrency: every stored object is
// referenced by an image row or queued, and nothing referenced is ever deleted.

#include "gallery/db/statement.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "gallery/cleanup/cleaner.hpp"
#include "support/api_server.hpp"
#include "support/fixtures.hpp"

using namespace gallery;
using nlohmann::json;

namespace {

httplib::Result upload(httplib::Client& client, const std::string& client_id) {
    return testing::upload(client, "p.png", testing::fake_image(".png", 2000), client_id);
}

std::set<std::string> column_values(const testing::TempDir& dir, const std::string& sql) {
    db::Connection database(dir.database_options());
    db::Statement query(database, sql);
    std::set<std::string> values;
    while (query.step()) values.insert(query.text(0));
    return values;
}

std::set<std::string> stored_keys(const testing::ApiServer& server) {
    return testing::stored_keys(*storage::make_local_storage(server.config().media_root));
}

}  // namespace

TEST_CASE("when the image row cannot be written the stored object is queued for deletion",
          "[postgresql]") {
    testing::ApiServer server;
    {
        db::Connection database(server.dir().database_options());
        testing::refuse_inserts(database, "images");
    }
    auto client = server.client();
    auto result = upload(client, "c");
    REQUIRE(result);
    CHECK(result->status == 500);
    CHECK(json::parse(result->body) ==
          json{{"success", false}, {"error", "Internal server error."}});
    CHECK(result->body.find("disk full") == std::string::npos);  // no SQL text leaks
    const auto stored = stored_keys(server);
    REQUIRE(stored.size() == 1);
    CHECK(column_values(server.dir(), "SELECT file_path FROM deletion_queue") == stored);
    // The queued key's intent is cleared; what is left are keys reserved for later uploads.
    CHECK_FALSE(column_values(server.dir(), "SELECT storage_key FROM upload_intents")
                    .contains(*stored.begin()));
}

TEST_CASE("a variant made at upload goes with its image's queued key when the row fails",
          "[postgresql]") {
    testing::ApiServer server(
        [](config::Config& config) { config.public_url = "https://cdn.example.com"; });
    {
        db::Connection database(server.dir().database_options());
        testing::refuse_inserts(database, "images");
    }
    std::ifstream in(GALLERY_SOURCE_DIR "/fuzz/corpus/jpeg/420.jpg", std::ios::binary);
    const std::string jpeg{std::istreambuf_iterator<char>(in), {}};
    auto client = server.client();
    auto result = testing::upload(client, "p.jpg", jpeg, "c");
    REQUIRE(result);
    CHECK(result->status == 500);
    const auto stored = stored_keys(server);
    REQUIRE(stored.size() == 2);  // the image and its thumbnail
    const std::string image_key = *std::ranges::find_if(
        stored, [](const std::string& key) { return key.starts_with("images/"); });
    CHECK(stored.contains("variants/thumb/" + image_key + ".jpg"));
    CHECK(column_values(server.dir(), "SELECT file_path FROM deletion_queue") ==
          std::set<std::string>{image_key});
    auto cleaned = client.Post("/api/cleanup/run/", "", "application/json");
    REQUIRE(cleaned);
    INFO(cleaned->body);
    CHECK(json::parse(cleaned->body)["deleted"] == 1);
    CHECK(stored_keys(server).empty());
}

TEST_CASE("a successful upload clears its own intent, and reserved keys hold nothing",
          "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    auto result = upload(client, "c");
    REQUIRE(result);
    CHECK(result->status == 201);
    const std::string key = "images/" + json::parse(result->body)["filename"].get<std::string>();
    CHECK(column_values(server.dir(), "SELECT storage_key FROM images") ==
          std::set<std::string>{key});
    const auto reserved = column_values(server.dir(), "SELECT storage_key FROM upload_intents");
    CHECK(reserved.size() == catalog::UploadKeys::Options{}.batch - 1);
    CHECK_FALSE(reserved.contains(key));
    CHECK(column_values(server.dir(), "SELECT DISTINCT client_id FROM upload_intents") ==
          std::set<std::string>{""});
    CHECK(stored_keys(server) == std::set<std::string>{key});
}

TEST_CASE("uploads deletes and a cleaner running at once leave every object referenced or queued",
          "[threads][postgresql]") {
    testing::ApiServer server;
    std::atomic<bool> stop{false};
    std::atomic<int> uploads{0}, deletes{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&, t] {
            auto client = server.client();
            for (int i = 0; i < 40; ++i) {
                auto result = upload(client, "client-" + std::to_string(t % 2));
                if (result && result->status == 201) ++uploads;
            }
        });
    }
    threads.emplace_back([&] {
        auto client = server.client();
        while (!stop) {
            auto list = client.Get("/api/list/?page_size=5&sort_by=uploaded_at");
            if (!list || list->status != 200) continue;
            json ids = json::array();
            const json page = json::parse(list->body);
            for (const auto& image : page["images"]) ids.push_back(image["id"]);
            if (ids.empty()) continue;
            auto result = client.Post("/api/bulk-delete/", json{{"image_ids", ids}}.dump(),
                                      "application/json");
            if (result && result->status == 200)
                deletes += json::parse(result->body)["deleted_count"].get<int>();
            auto all = client.Delete("/api/clients/client-1/delete-all/");
            if (all && all->status == 200)
                deletes += json::parse(all->body)["deleted_count"].get<int>();
        }
    });
    threads.emplace_back([&] {
        db::Connection connection(server.dir().database_options());
        auto local = storage::make_local_storage(server.config().media_root);
        cleanup::Options options;
        options.batch_size = 7;
        options.until_empty = true;
        while (!stop) cleanup::Cleaner(connection, *local, options, system_clock(), "cron").run();
    });
    for (int t = 0; t < 3; ++t) threads[static_cast<std::size_t>(t)].join();
    stop = true;
    for (std::size_t t = 3; t < threads.size(); ++t) threads[t].join();

    CHECK(uploads == 120);
    const auto live = column_values(server.dir(), "SELECT storage_key FROM images");
    // Every upload is either still live or was reported deleted exactly once.
    CHECK(deletes > 0);
    CHECK(static_cast<int>(live.size()) + deletes == uploads);
    const auto queued = column_values(server.dir(), "SELECT file_path FROM deletion_queue");
    const auto stored = stored_keys(server);
    for (const auto& key : live) {
        INFO("live key " << key);
        CHECK(stored.contains(key));  // nothing referenced was deleted
    }
    for (const auto& key : stored) {
        INFO("stored key " << key);
        CHECK((live.contains(key) || queued.contains(key)));  // nothing leaked
    }
}
