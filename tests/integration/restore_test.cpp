// The restore window through the real binary: deleted images stay in the queue as
// 'restorable' for restore_window, POST /api/restore/ brings them back with every
// field, a cleaner deletes them once the window has ended, and a restore racing a
// cleaner on the same rows loses or wins each row whole.
#include <httplib.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "gallery/storage/s3_storage.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/s3rver.hpp"
#include "support/served.hpp"

using namespace gallery;
using nlohmann::json;

namespace {

const std::string k_key = "restore-test-key-0123456789abcdef";
const std::string k_jpeg = "\xff\xd8\xff\xe0 a small jpeg body";

// `gallery serve` on local storage (or on s3rver) with a restore window.
struct RestoreServer {
    RestoreServer(const std::string& window, testing::S3rver* s3 = nullptr) {
        env = {{"GALLERY_DB", dir.database()},
               {"GALLERY_MEDIA_ROOT", dir.media_root().string()},
               {"GALLERY_API_KEY", k_key},
               {"GALLERY_RESTORE_WINDOW", window}};
        if (s3) {
            env.insert({{"GALLERY_STORAGE", "s3"},
                        {"GALLERY_S3_ENDPOINT", s3->endpoint()},
                        {"GALLERY_S3_BUCKET", "gallery"},
                        {"GALLERY_S3_REGION", "us-east-1"},
                        {"GALLERY_S3_ACCESS_KEY", "S3RVER"},
                        {"GALLERY_S3_SECRET_KEY", "S3RVER"}});
            store = storage::make_s3_storage(s3->options());
        }
        REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code ==
                0);
        served = testing::start_serve(env, dir.path() / "serve.out");
    }
    ~RestoreServer() {
        ::kill(served.pid, SIGTERM);
        testing::wait_process(served.pid);
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", served.port);
        c.set_default_headers({{"X-API-Key", k_key}});
        c.set_read_timeout(std::chrono::seconds{30});
        return c;
    }
    json upload(const std::string& name, const std::string& client_id) const {
        auto c = client();
        auto answer = testing::upload(c, name, k_jpeg, client_id, "title of " + name);
        REQUIRE(answer);
        REQUIRE(answer->status == 201);
        return json::parse(answer->body);
    }
    json post(const std::string& path, const json& body, int expected = 200) const {
        auto answer = client().Post(path, body.dump(), "application/json");
        REQUIRE(answer);
        INFO(answer->body);
        REQUIRE(answer->status == expected);
        return json::parse(answer->body);
    }
    json get(const std::string& path) const {
        auto answer = client().Get(path);
        REQUIRE(answer);
        REQUIRE(answer->status == 200);
        return json::parse(answer->body);
    }
    // Whether the image's object is in storage.
    bool stored(const json& image) const {
        const std::string key = "images/" + image["filename"].get<std::string>();
        if (!store) return std::filesystem::exists(dir.media_root() / key);
        auto head = store->head(key);
        REQUIRE(head);
        return head->has_value();
    }
    testing::ProcessResult cleanup(const std::vector<std::string>& flags = {}) const {
        std::vector<std::string> argv{GALLERY_BINARY, "cleanup"};
        argv.insert(argv.end(), flags.begin(), flags.end());
        return testing::run_process(argv, {.environment = env});
    }

    testing::TempDir dir;
    std::map<std::string, std::string> env;
    testing::ServedProcess served;
    std::unique_ptr<storage::Storage> store;
};

json listed(const RestoreServer& server) {
    return server.get("/api/list/?page_size=100&sort_by=uploaded_at")["images"];
}

void restores_with_every_field(RestoreServer& server) {
    const json a = server.upload("a.jpg", "Shop");
    const json b = server.upload("b.jpg", "shop");
    const json c = server.upload("c.jpg", "other");
    const json before = listed(server);
    const json totals_before = server.get("/api/stats/");
    const json clients_before = server.get("/api/clients/");
    REQUIRE(before.size() == 3);

    auto client = server.client();
    REQUIRE(client.Delete("/api/delete/" + std::to_string(a["id"].get<int>()) + "/")->status ==
            200);
    server.post("/api/bulk-delete/", {{"image_ids", json::array({b["id"]})}});
    REQUIRE(client.Delete("/api/clients/other/delete-all/")->status == 200);
    CHECK(listed(server).empty());
    // Deleted means gone at once: /media/ stops before any cleanup, the objects stay.
    for (const json* image : {&a, &b, &c}) {
        auto media = client.Get("/media/images/" + (*image)["filename"].get<std::string>());
        REQUIRE(media);
        CHECK(media->status == 404);
        CHECK(server.stored(*image));
    }
    const json stats = server.get("/api/cleanup/stats/")["stats"];
    CHECK(stats["restorable"] == 3);
    CHECK(stats["pending"] == 0);
    CHECK(stats["bytes_restorable"] == 3 * k_jpeg.size());
    CHECK(stats["bytes_pending"] == 3 * k_jpeg.size());
    CHECK(!stats["first_window_end"].is_null());
    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    CHECK(metrics->body.find("\ngallery_queue_restorable 3\n") != std::string::npos);
    // A cron cleanup inside the window deletes nothing and says why.
    const auto early = server.cleanup({"--until-empty"});
    INFO(early.out << early.err);
    CHECK(early.exit_code == 0);
    CHECK(early.out.find("Restorable: 3 deleted images wait") != std::string::npos);
    for (const json* image : {&a, &b, &c}) CHECK(server.stored(*image));

    const json by_ids =
        server.post("/api/restore/", {{"image_ids", json::array({b["id"], 987654, a["id"]})}});
    CHECK(by_ids["success"] == true);
    CHECK(by_ids["restored_count"] == 2);
    CHECK(by_ids["restored_ids"] == json::array({b["id"], a["id"]}));
    CHECK(by_ids["not_restorable_ids"] == json::array({987654}));
    const json by_client = server.post("/api/restore/", {{"client_id", "OTHER"}});
    CHECK(by_client["restored_ids"] == json::array({c["id"]}));
    CHECK(by_client["not_restorable_ids"] == json::array());

    // Every field as before: ids, names, clients' spellings, times, URLs, and totals.
    CHECK(listed(server) == before);
    CHECK(server.get("/api/stats/") == totals_before);
    CHECK(server.get("/api/clients/") == clients_before);
    CHECK(server.get("/api/cleanup/stats/")["stats"]["restorable"] == 0);
    auto media = client.Get("/media/images/" + a["filename"].get<std::string>());
    REQUIRE(media);
    CHECK(media->status == (server.store ? 302 : 200));
}

}  // namespace

TEST_CASE("deleted images are restorable within the window with every field (local storage)",
          "[postgresql]") {
    RestoreServer server("1h");
    restores_with_every_field(server);
}

TEST_CASE("deleted images are restorable within the window with every field (S3)") {
    testing::S3rver s3;
    RestoreServer server("1h", &s3);
    restores_with_every_field(server);
}

namespace {

void refuses_after_cleanup(RestoreServer& server) {
    const json kept = server.upload("kept.jpg", "shop");
    const json image = server.upload("gone.jpg", "shop");
    server.post("/api/bulk-delete/", {{"image_ids", json::array({image["id"]})}});
    std::this_thread::sleep_for(std::chrono::milliseconds{1200});
    const auto run = server.cleanup({"--until-empty", "--json"});
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(json::parse(run.out)["deleted"] == 1);
    CHECK(!server.stored(image));
    const json before = listed(server);
    const json totals = server.get("/api/stats/");
    const json refused = server.post("/api/restore/", {{"image_ids", json::array({image["id"]})}});
    CHECK(refused["restored_count"] == 0);
    CHECK(refused["not_restorable_ids"] == json::array({image["id"]}));
    CHECK(server.post("/api/restore/", {{"client_id", "shop"}})["restored_count"] == 0);
    CHECK(listed(server) == before);
    CHECK(server.get("/api/stats/") == totals);
    CHECK(server.stored(kept));
}

}  // namespace

TEST_CASE("a restore after the window's cleanup is refused and changes nothing (local storage)",
          "[postgresql]") {
    RestoreServer server("1s");
    refuses_after_cleanup(server);
}

TEST_CASE("a restore after the window's cleanup is refused and changes nothing (S3)") {
    testing::S3rver s3;
    RestoreServer server("1s", &s3);
    refuses_after_cleanup(server);
}

TEST_CASE("a purge ends a restore window on purpose and the receipt says so", "[postgresql]") {
    RestoreServer server("1h");
    const json a = server.upload("a.jpg", "Shop");
    const json b = server.upload("b.jpg", "shop");
    const json c = server.upload("c.jpg", "other");
    const json kept = server.upload("d.jpg", "other");
    server.post("/api/bulk-delete/", {{"image_ids", json::array({a["id"], b["id"], c["id"]})}});
    const json queued = server.get("/api/cleanup/stats/")["stats"];
    CHECK(queued["restorable"] == 3);
    // total_pending counts every object the queue still holds: a script that waits for 0
    // waits for clean storage, restorable ones included.
    CHECK(queued["total_pending"] == 3);
    CHECK(queued["total_pending_parts"] ==
          json{{"pending", 0}, {"held_by_backup", 0}, {"restorable", 3}, {"dead", 0}});

    // By ids: a restorable image is purged, an unknown id is named back.
    const json by_ids = server.post("/api/purge/", {{"image_ids", json::array({a["id"], 987654})}});
    CHECK(by_ids["purged_ids"] == json::array({a["id"]}));
    CHECK(by_ids["not_restorable_ids"] == json::array({987654}));
    CHECK(by_ids["purged_count"] == 1);
    // A purged image is not restorable any more, before any cleanup ran.
    const json refused = server.post("/api/restore/", {{"image_ids", json::array({a["id"]})}});
    CHECK(refused["restored_ids"] == json::array());
    CHECK(refused["not_restorable_ids"] == json::array({a["id"]}));
    CHECK(server.get("/api/cleanup/stats/")["stats"]["restorable"] == 2);

    // The next cleanup deletes its object, and only its object.
    const auto ran = server.cleanup({"--json"});
    INFO(ran.out << ran.err);
    REQUIRE(ran.exit_code == 0);
    CHECK(json::parse(ran.out)["deleted"] == 1);
    CHECK_FALSE(server.stored(a));
    CHECK(server.stored(b));
    CHECK(server.stored(c));
    const std::string key_a = "images/" + a["filename"].get<std::string>();
    const auto history = testing::run_process({GALLERY_BINARY, "stats", "--file", key_a, "--json"},
                                              {.environment = server.env});
    REQUIRE(history.exit_code == 0);
    const json receipts = json::parse(history.out)["receipts"];
    REQUIRE(receipts.size() == 1);
    CHECK(receipts[0]["purged_at"].is_string());

    // By client (case folded as the original's ids): b only.
    const json by_client = server.post("/api/purge/", {{"client_id", "SHOP"}});
    CHECK(by_client["purged_ids"] == json::array({b["id"]}));
    // The CLI: one client's restorable images, then this run deletes them.
    const auto purged = server.cleanup({"--purge-restorable", "--client-id", "OTHER", "--json"});
    INFO(purged.out << purged.err);
    REQUIRE(purged.exit_code == 0);
    CHECK(json::parse(purged.out)["purged"] == 1);
    CHECK(json::parse(purged.out)["deleted"] == 2);
    CHECK_FALSE(server.stored(b));
    CHECK_FALSE(server.stored(c));
    CHECK(server.stored(kept));
    CHECK(server.get("/api/cleanup/stats/")["stats"]["restorable"] == 0);
    CHECK(server.get("/api/cleanup/stats/")["stats"]["total_pending"] == 0);
    CHECK(server.get("/api/stats/")["stats"]["total_images"] == 1);

    // Malformed purges change nothing.
    CHECK(server.post("/api/purge/", json::object(), 400)["error"] ==
          "Give image_ids (a list of image ids) or client_id (a client's images).");
    CHECK(server.post("/api/purge/", {{"image_ids", json::array({1})}, {"client_id", "x"}},
                      400)["error"] == "Give either image_ids or client_id, not both.");
    const auto flags = server.cleanup({"--client-id", "x"});
    CHECK(flags.exit_code == 2);
}

TEST_CASE("POST /api/restore/ refuses malformed requests with a sentence") {
    RestoreServer server("1h");
    const auto refused = [&](const std::string& body) {
        auto answer = server.client().Post("/api/restore/", body, "application/json");
        REQUIRE(answer);
        INFO(body << " -> " << answer->body);
        CHECK(answer->status == 400);
        const json error = json::parse(answer->body);
        CHECK(error["success"] == false);
        return error["error"].get<std::string>();
    };
    CHECK(refused(R"({"image_ids": [1], "client_id": "a"})") ==
          "Give either image_ids or client_id, not both.");
    CHECK(refused("{}").find("Give image_ids") == 0);
    CHECK(refused("[1, 2]") == "Invalid JSON in request body.");
    CHECK(refused("not json") == "Invalid JSON in request body.");
    CHECK(refused(R"({"image_ids": []})") == "image_ids must be a non-empty array of integers.");
    CHECK(refused(R"({"image_ids": [1.5]})") == "All image_ids must be valid integers.");
    CHECK(refused(R"({"client_id": 7})") == "client_id must be a string.");
    CHECK(!refused(R"({"client_id": "a/b"})").empty());
    json many = {{"image_ids", json::array()}};
    for (int i = 0; i < 10'001; ++i) many["image_ids"].push_back(i);
    CHECK(refused(many.dump()).find("at most 10000") != std::string::npos);
    // Without a key, as every /api/ route.
    httplib::Client anonymous("127.0.0.1", server.served.port);
    auto unauthorised =
        anonymous.Post("/api/restore/", R"({"image_ids": [1]})", "application/json");
    REQUIRE(unauthorised);
    CHECK(unauthorised->status == 401);
}

namespace {

void race_restores_against_cleaners(RestoreServer& server, int rounds) {
    std::mt19937 random{20261203};
    int restored_total = 0;
    int deleted_total = 0;
    for (int round = 0; round < rounds; ++round) {
        std::vector<json> images;
        json ids = json::array();
        for (int i = 0; i < 20; ++i) {
            images.push_back(server.upload(
                "r" + std::to_string(round) + "-" + std::to_string(i) + ".jpg", "racer"));
            ids.push_back(images.back()["id"]);
        }
        server.post("/api/bulk-delete/", {{"image_ids", ids}});
        std::this_thread::sleep_for(std::chrono::milliseconds{1100});
        // The cleaner claims 3 rows per batch; the restore lands somewhere among its
        // batches (0-120 ms after it starts), taking whatever is still restorable.
        auto cleaner = std::async(std::launch::async, [&] {
            return server.cleanup({"--until-empty", "--batch-size", "3"});
        });
        std::this_thread::sleep_for(
            std::chrono::milliseconds{std::uniform_int_distribution<int>(0, 120)(random)});
        const json restore = server.post("/api/restore/", {{"image_ids", ids}});
        const auto run = cleaner.get();
        INFO(run.out << run.err);
        REQUIRE(run.exit_code == 0);
        // Whatever the first run left (claimed after the restore) goes too.
        REQUIRE(server.cleanup({"--until-empty"}).exit_code == 0);

        std::set<int> restored;
        for (const json& id : restore["restored_ids"]) restored.insert(id.get<int>());
        CHECK(restore["restored_count"].get<std::size_t>() + restore["not_restorable_ids"].size() ==
              images.size());
        std::set<int> live;
        for (const json& image : listed(server)) live.insert(image["id"].get<int>());
        for (const json& image : images) {
            const int id = image["id"].get<int>();
            INFO("round " << round << ", image " << id);
            // Restored: the image is back and its object is there. Not restored: both
            // are gone. Never an image without its object, nor a lost restore.
            CHECK(live.contains(id) == restored.contains(id));
            CHECK(server.stored(image) == restored.contains(id));
        }
        restored_total += static_cast<int>(restored.size());
        deleted_total += static_cast<int>(images.size() - restored.size());
        // The restored ones leave for the next round.
        json again = json::array();
        for (const int id : restored) again.push_back(id);
        if (!again.empty()) server.post("/api/bulk-delete/", {{"image_ids", again}});
    }
    const json stats = server.get("/api/cleanup/stats/")["stats"];
    INFO("restored " << restored_total << ", deleted " << deleted_total);
    CHECK(restored_total + deleted_total == rounds * 20);
    CHECK(stats["dead"] == 0);
}

}  // namespace

TEST_CASE("a restore racing a cleaner wins or loses each row whole, every round (local storage)",
          "[postgresql]") {
    RestoreServer server("1s");
    race_restores_against_cleaners(server, 8);
}

TEST_CASE("a restore racing a cleaner wins or loses each row whole, every round (S3)") {
    testing::S3rver s3;
    RestoreServer server("1s", &s3);
    race_restores_against_cleaners(server, 4);
}
