// Idempotency-Key (issue 36): a retried request never stores or deletes twice; the
// first answer is replayed. On a real socket, on SQLite and PostgreSQL.

#include <httplib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "gallery/db/statement.hpp"
#include "support/api_server.hpp"
#include "support/fixtures.hpp"

using namespace gallery;
using nlohmann::json;

namespace {

httplib::MultipartFormDataItems upload_form(const std::string& name) {
    return {{"image", testing::fake_image(".png", 300), "a.png", "image/png"},
            {"client_id", "retry", "", ""},
            {"name", name, "", ""}};
}

httplib::Result upload_with_key(httplib::Client& client, const std::string& key,
                                const std::string& name = "one") {
    return client.Post("/api/upload/", {{"Idempotency-Key", key}}, upload_form(name));
}

std::int64_t count_rows(testing::ApiServer& server, const std::string& sql) {
    auto connection = server.pool().acquire();
    return db::query_int64(*connection, sql);
}

std::size_t stored_objects(testing::ApiServer& server) {
    return testing::stored_keys(server.storage()).size();
}

}  // namespace

TEST_CASE("an upload retried with its Idempotency-Key is stored once and answered alike",
          "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    auto first = upload_with_key(client, "upload-0001");
    REQUIRE(first);
    REQUIRE(first->status == 201);
    auto again = upload_with_key(client, "upload-0001");
    REQUIRE(again);
    CHECK(again->status == 201);
    CHECK(again->get_header_value("Idempotent-Replayed") == "true");
    CHECK(json::parse(again->body) == json::parse(first->body));
    CHECK(count_rows(server, "SELECT COUNT(*) FROM images") == 1);
    CHECK(stored_objects(server) == 1);

    // Another request under the same key is refused; nothing is stored.
    auto other = upload_with_key(client, "upload-0001", "two");
    REQUIRE(other);
    CHECK(other->status == 422);
    CHECK(json::parse(other->body)["error"].get<std::string>().find("different request") !=
          std::string::npos);
    // Without a key, or with a new one, uploads are as always.
    REQUIRE(testing::upload(client, "a.png", testing::fake_image(".png", 300), "retry")->status ==
            201);
    REQUIRE(upload_with_key(client, "upload-0002")->status == 201);
    CHECK(count_rows(server, "SELECT COUNT(*) FROM images") == 3);
    CHECK(stored_objects(server) == 3);
}

TEST_CASE("concurrent uploads with one Idempotency-Key store one image", "[postgresql][threads]") {
    testing::ApiServer server;
    constexpr int k_senders = 6;
    std::mutex results_mutex;
    std::vector<std::pair<int, std::string>> results;
    std::vector<std::thread> senders;
    for (int i = 0; i < k_senders; ++i) {
        senders.emplace_back([&] {
            auto client = server.client();
            auto answer = upload_with_key(client, "same-key-at-once");
            std::lock_guard lock(results_mutex);
            results.emplace_back(answer ? answer->status : -1, answer ? answer->body : "");
        });
    }
    for (auto& sender : senders) sender.join();
    std::set<std::int64_t> ids;
    for (const auto& [status, body] : results) {
        INFO(status << " " << body);
        CHECK((status == 201 || status == 409));
        if (status == 201) ids.insert(json::parse(body)["id"].get<std::int64_t>());
    }
    CHECK(ids.size() == 1);  // every 201 names the same image
    CHECK(count_rows(server, "SELECT COUNT(*) FROM images") == 1);
    CHECK(stored_objects(server) == 1);
}

TEST_CASE("a retried delete replays its answer instead of a 404", "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    const std::string id = std::to_string(
        json::parse(testing::upload(client, "a.png", testing::fake_image(".png"), "c")->body)["id"]
            .get<std::int64_t>());
    const httplib::Headers key{{"Idempotency-Key", "delete-" + id}};
    auto first = client.Delete("/api/delete/" + id + "/", key);
    REQUIRE(first);
    REQUIRE(first->status == 200);
    auto again = client.Delete("/api/delete/" + id + "/", key);
    REQUIRE(again);
    CHECK(again->status == 200);
    CHECK(again->body == first->body);
    CHECK(count_rows(server, "SELECT COUNT(*) FROM deletion_queue") == 1);
    // The same key on another route is another request.
    auto bulk =
        client.Post("/api/bulk-delete/", key, "{\"image_ids\": [" + id + "]}", "application/json");
    REQUIRE(bulk);
    CHECK(bulk->status == 422);
    // Without the key the delete is what it always was.
    auto plain = client.Delete("/api/delete/" + id + "/");
    REQUIRE(plain);
    CHECK(plain->status == 404);
}

TEST_CASE("an Idempotency-Key that is empty, too long or not visible ASCII is refused",
          "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    for (const std::string& key :
         {std::string(256, 'k'), std::string("two words"), std::string("caf\xC3\xA9")}) {
        auto answer = upload_with_key(client, key);
        REQUIRE(answer);
        CHECK(answer->status == 400);
    }
    CHECK(count_rows(server, "SELECT COUNT(*) FROM images") == 0);
    CHECK(count_rows(server, "SELECT COUNT(*) FROM idempotency_keys") == 0);
}

TEST_CASE("a 5xx answer is not kept, a 4xx is, and a key a dead request left is taken over",
          "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    // Storage refuses the object (a file where the images folder goes): 503, not kept.
    const auto images = server.dir().media_root() / "images";
    std::filesystem::create_directories(server.dir().media_root());
    std::filesystem::remove_all(images);
    { std::ofstream blocker(images); }
    auto failed = upload_with_key(client, "upload-after-outage");
    REQUIRE(failed);
    CHECK(failed->status == 503);
    CHECK(count_rows(server, "SELECT COUNT(*) FROM idempotency_keys") == 0);
    std::filesystem::remove(images);
    auto retried = upload_with_key(client, "upload-after-outage");
    REQUIRE(retried);
    CHECK(retried->status == 201);
    CHECK(retried->get_header_value("Idempotent-Replayed").empty());

    const httplib::Headers key{{"Idempotency-Key", "restore-1"}};
    auto refused = client.Post("/api/restore/", key, "{}", "application/json");
    REQUIRE(refused);
    CHECK(refused->status == 400);
    CHECK(count_rows(server, "SELECT COUNT(*) FROM idempotency_keys WHERE status = 400") == 1);

    {
        auto connection = server.pool().acquire();
        db::Statement pending(*connection,
                              "INSERT INTO idempotency_keys (idempotency_key, fingerprint,"
                              " created_at) VALUES ('stale', 'x', 0)");
        pending.execute();
    }
    auto taken_over = upload_with_key(client, "stale");
    REQUIRE(taken_over);
    CHECK(taken_over->status == 201);
}
