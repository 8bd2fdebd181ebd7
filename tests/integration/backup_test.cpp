// gallery backup on the real binary: snapshots taken while serve works, restores that
// find every image's object, the guard that keeps objects a retained backup needs, and
// the layouts every command refuses.

#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "gallery/db/statement.hpp"
#include "support/api_server.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/served.hpp"

using namespace gallery;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

testing::ProcessResult gallery_run(const testing::ServedGallery& server,
                                   std::vector<std::string> args,
                                   std::map<std::string, std::string> extra = {}) {
    args.insert(args.begin(), GALLERY_BINARY);
    auto env = server.env;
    for (auto& [name, value] : extra) env[name] = value;
    return testing::run_process(args, {.environment = env});
}

json json_of(const testing::ProcessResult& result) {
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
    return json::parse(result.out);
}

json upload(httplib::Client& client, const std::string& client_id) {
    auto answer = testing::upload(client, "photo.png", testing::fake_image(".png"), client_id);
    REQUIRE(answer);
    REQUIRE(answer->status == 201);
    return json::parse(answer->body);
}

std::int64_t images_in(const fs::path& database) {
    db::Connection connection({.path = database});
    return db::query_int64(connection, "SELECT COUNT(*) FROM images");
}

}  // namespace

TEST_CASE("a backup taken while uploads run restores a catalog whose every object is there") {
    testing::ServedGallery server;
    const fs::path folder = server.env.at("GALLERY_BACKUP_DIR");
    auto client = server.client();
    for (int i = 0; i < 3; ++i) upload(client, "before");
    // Uploads go on while the snapshot is taken: it sees some prefix of them, whole.
    std::thread uploads([&] {
        auto busy = server.client();
        for (int i = 0; i < 20; ++i) upload(busy, "during");
    });
    const json taken = json_of(gallery_run(server, {"backup", "--json"}));
    uploads.join();
    CHECK(taken["image_count"].get<int>() >= 3);
    CHECK(taken["image_count"].get<int>() <= 23);
    CHECK(taken["sha256"].get<std::string>().size() == 64);
    const json listed = json_of(gallery_run(server, {"backup", "--list", "--json"}));
    REQUIRE(listed["backups"].size() == 1);
    CHECK(listed["backups"][0]["name"] == taken["name"]);

    const fs::path restored = server.dir.path() / "restored.db";
    const json report = json_of(gallery_run(
        server, {"backup", "--restore", "latest", "--to", restored.string(), "--json"}));
    CHECK(report["missing_count"] == 0);
    CHECK(images_in(restored) == taken["image_count"].get<int>());
    // A file there already is never overwritten without --force.
    const auto again =
        gallery_run(server, {"backup", "--restore", "latest", "--to", restored.string()});
    CHECK(again.exit_code == 2);
    CHECK(again.err.find("exists") != std::string::npos);

    // A damaged backup is refused before anything is written.
    const fs::path data = folder / (taken["name"].get<std::string>() + ".db.gz");
    {
        std::fstream file(data, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(static_cast<std::streamoff>(fs::file_size(data) / 2));
        file.put('\x5a');
    }
    const fs::path other = server.dir.path() / "other.db";
    const auto damaged =
        gallery_run(server, {"backup", "--restore", "latest", "--to", other.string()});
    CHECK(damaged.exit_code == 2);
    CHECK(damaged.err.find("damaged") != std::string::npos);
    CHECK_FALSE(fs::exists(other));

    // What a killed run leaves (no manifest) is not a backup, and the next run removes it.
    std::ofstream(folder / "gallery-20000101T000000Z.db.gz.partial") << "half";
    CHECK(json_of(gallery_run(server, {"backup", "--list", "--json"}))["backups"].size() == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // names are per second
    json_of(gallery_run(server, {"backup", "--json"}));
    CHECK_FALSE(fs::exists(folder / "gallery-20000101T000000Z.db.gz.partial"));
}

TEST_CASE("objects deleted after a retained backup are kept until it leaves retention") {
    testing::ServedGallery server(std::map<std::string, std::string>{{"GALLERY_BACKUP_KEEP", "1"}});
    auto client = server.client();
    const json a = upload(client, "c");
    upload(client, "c");
    json_of(gallery_run(server, {"backup", "--json"}));
    REQUIRE(client.Delete("/api/delete/" + std::to_string(a["id"].get<int>()) + "/")->status ==
            200);
    const fs::path object = server.dir.media_root() / "images" / a["filename"].get<std::string>();
    // The cleaner leaves it: a restore of the backup needs it.
    CHECK(json_of(gallery_run(server, {"cleanup", "--json"}))["deleted"] == 0);
    CHECK(fs::exists(object));
    auto stats = client.Get("/api/cleanup/stats/");
    REQUIRE(stats);
    const json parts = json::parse(stats->body)["stats"]["total_pending_parts"];
    CHECK(parts["held_by_backup"] == 1);
    CHECK(json_of(gallery_run(server, {"stats", "--json"}))["queue"]["held_by_backup"] == 1);
    const fs::path restored = server.dir.path() / "restored.db";
    const json report = json_of(gallery_run(
        server, {"backup", "--restore", "latest", "--to", restored.string(), "--json"}));
    CHECK(report["missing_count"] == 0);
    CHECK(images_in(restored) == 2);
    // With the guard off the same row would go: the setting decides.
    CHECK(json_of(gallery_run(server, {"cleanup", "--dry-run", "--json"},
                              {{"GALLERY_BACKUP_GUARD", "off"}}))["items"]
              .size() == 1);

    // A newer backup pushes the first out of retention (keep 1): the object goes.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    const json second = json_of(gallery_run(server, {"backup", "--json"}));
    CHECK(second["pruned"].size() == 1);
    CHECK(json_of(gallery_run(server, {"cleanup", "--json"}))["deleted"] == 1);
    CHECK_FALSE(fs::exists(object));
}

TEST_CASE("a database or backup folder under the media root is refused by every command") {
    testing::TempDir dir;
    const fs::path media = dir.path() / "data";
    const std::vector<std::map<std::string, std::string>> layouts{
        {{"GALLERY_DB", (media / "gallery.db").string()}, {"GALLERY_MEDIA_ROOT", media.string()}},
        {{"GALLERY_DB", (dir.path() / "gallery.db").string()},
         {"GALLERY_MEDIA_ROOT", media.string() + "/"},
         {"GALLERY_BACKUP_DIR", (media / "backups").string()}},
    };
    const std::vector<std::vector<std::string>> commands{{"migrate"},
                                                         {"serve", "--port", "0"},
                                                         {"cleanup"},
                                                         {"enqueue", "images/x.jpg"},
                                                         {"stats"},
                                                         {"backup"},
                                                         {"migrate", "--from-django", "env"}};
    for (const auto& env : layouts) {
        for (const auto& command : commands) {
            std::vector<std::string> argv{GALLERY_BINARY};
            argv.insert(argv.end(), command.begin(), command.end());
            const auto result = testing::run_process(argv, {.environment = env});
            INFO(command[0] << ": " << result.err);
            CHECK(result.exit_code == 2);
            CHECK(result.err.find("is under the media root") != std::string::npos);
        }
    }
    CHECK_FALSE(fs::exists(media / "gallery.db"));
}
