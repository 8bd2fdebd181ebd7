// gallery backup on the real binary: snapshots taken while serve works, restores that
// find every image's object, the guard that keeps objects a retained backup needs, and
// the layouts every command refuses.

#include <signal.h>
#include <unistd.h>

#include <atomic>
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

TEST_CASE(
    "a database read-only for a moment and a missing media root: healthz says so and "
    "uploads work again within seconds of the fix") {
    testing::TempDir dir;
    // Permissions bind an unprivileged user only: as root, serve runs as nobody.
    const std::vector<std::string> wrapper =
        ::geteuid() == 0 ? std::vector<std::string>{"/usr/bin/setpriv", "--reuid=65534",
                                                    "--regid=65534", "--clear-groups"}
                         : std::vector<std::string>{};
    fs::permissions(dir.path(), fs::perms::all);
    // The unprivileged user may not reach the build tree: it runs a copy from here.
    const fs::path binary = dir.path() / "gallery";
    fs::copy_file(GALLERY_BINARY, binary);
    fs::permissions(binary, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
    const std::map<std::string, std::string> env{
        {"GALLERY_DB", dir.db_path().string()},
        {"GALLERY_MEDIA_ROOT", dir.media_root().string()},
        {"GALLERY_API_KEY", testing::ServedGallery::k_api_key}};
    std::vector<std::string> migrate = wrapper;
    migrate.insert(migrate.end(), {binary.string(), "migrate"});
    REQUIRE(testing::run_process(migrate, {.environment = env}).exit_code == 0);
    const testing::ServedProcess served =
        testing::start_serve(env, dir.path() / "serve.out", wrapper, binary.string());
    httplib::Client client("127.0.0.1", served.port);
    client.set_default_headers({{"X-API-Key", testing::ServedGallery::k_api_key}});
    const auto upload_status = [&] {
        auto answer = testing::upload(client, "a.png", testing::fake_image(".png"), "c");
        return answer ? answer->status : 0;
    };
    const auto health = [&] {
        auto answer = client.Get("/healthz");
        REQUIRE(answer);
        return std::pair{answer->status, json::parse(answer->body)};
    };
    REQUIRE(upload_status() == 201);

    const std::vector<fs::path> files{dir.db_path(), dir.db_path().string() + "-wal",
                                      dir.db_path().string() + "-shm"};
    for (const fs::path& file : files)
        fs::permissions(file,
                        fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec |
                                    fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
    // Uploads at once make the pool open connections while the file is read-only: those
    // come up read-only (SQLite falls back) and fail; they must not stay so.
    const auto concurrent_uploads = [&] {
        std::vector<std::thread> threads;
        std::atomic<int> stored = 0;
        for (int i = 0; i < 8; ++i) {
            threads.emplace_back([&] {
                httplib::Client own("127.0.0.1", served.port);
                own.set_default_headers({{"X-API-Key", testing::ServedGallery::k_api_key}});
                auto answer = testing::upload(own, "a.png", testing::fake_image(".png"), "c");
                if (answer && answer->status == 201) ++stored;
            });
        }
        for (auto& thread : threads) thread.join();
        return stored.load();
    };
    concurrent_uploads();
    const auto [status, body] = health();
    CHECK(status == 503);
    CHECK(body["database"] == "read-only");

    for (const fs::path& file : files) fs::permissions(file, fs::perms::all);
    fs::permissions(dir.path(), fs::perms::all);
    // Within seconds every connection writes again (a broken one is reopened when lent).
    int stored = 0;
    for (int round = 0; round < 25 && stored != 8; ++round) {
        stored = concurrent_uploads();
        if (stored != 8) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    CHECK(stored == 8);
    CHECK(upload_status() == 201);
    CHECK(health().first == 200);

    fs::rename(dir.media_root(), dir.path() / "media.gone");
    const auto [missing_status, missing_body] = health();
    CHECK(missing_status == 503);
    CHECK(missing_body["storage"] == "missing");
    fs::rename(dir.path() / "media.gone", dir.media_root());
    CHECK(health().first == 200);
    ::kill(served.pid, SIGTERM);
    testing::wait_process(served.pid);
}

TEST_CASE("serve --backup-every takes backups on its own and applies retention", "[threads]") {
    testing::ServedGallery server(std::map<std::string, std::string>{{"GALLERY_BACKUP_EVERY", "1s"},
                                                                     {"GALLERY_BACKUP_KEEP", "2"}});
    auto client = server.client();
    upload(client, "scheduled");
    // Backup names have a one-second resolution: three distinct ones take three seconds
    // and more. Bounded: fails after 20 s.
    std::vector<json> listed;
    for (int waited = 0; waited < 200; ++waited) {
        const auto list = gallery_run(server, {"backup", "--list", "--json"});
        REQUIRE(list.exit_code == 0);
        listed = json::parse(list.out)["backups"].get<std::vector<json>>();
        const bool pruned_once = server.output().find("(retention)") != std::string::npos;
        if (listed.size() == 2 && pruned_once) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    INFO(server.output());
    REQUIRE(listed.size() == 2);  // backup_keep: older ones removed as new ones come
    CHECK(server.output().find("(retention)") != std::string::npos);
    CHECK(listed.back()["image_count"] == 1);
    // What the schedule took restores like any backup.
    const fs::path restored = server.dir.path() / "restored.db";
    REQUIRE(gallery_run(server, {"backup", "--restore", "latest", "--to", restored.string()})
                .exit_code == 0);
    CHECK(images_in(restored) == 1);
}

TEST_CASE("serve --backup-every with PostgreSQL is refused with what to do instead") {
    testing::TempDir dir;
    const auto result = testing::run_process(
        {GALLERY_BINARY, "serve", "--port", "0", "--backup-every", "1h"},
        {.environment = {{"GALLERY_DB", "postgresql://gallery@127.0.0.1:1/gallery"},
                         {"GALLERY_MEDIA_ROOT", dir.media_root().string()}}});
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("pg_dump") != std::string::npos);
    CHECK(result.err.find("gallery backup --mark") != std::string::npos);
}
