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
#include <set>
#include <thread>

#include "gallery/db/statement.hpp"
#include "gallery/storage/s3_storage.hpp"
#include "support/api_server.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/s3rver.hpp"
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

// `count` image rows written straight into the database (no objects): a catalog big
// enough that a backup takes a while.
void seed_images(const fs::path& database, int count) {
    db::Connection connection({.path = database});
    db::execute_script(
        connection, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
                        std::to_string(count) +
                        ") INSERT INTO images (filename, storage_key, original_filename, client_id,"
                        " name, size, content_type, uploaded_at) SELECT 'seed-' || i || '.jpg',"
                        " 'images/seed-' || i || '.jpg', 'a photo with a long original name ' || i,"
                        " 'seeded', 'name ' || i, 50000 + i, 'image/jpeg', 1700000000000000 + i"
                        " FROM n");
}

std::map<std::string, std::string> s3_settings(const testing::S3rver& s3) {
    return {{"GALLERY_STORAGE", "s3"},           {"GALLERY_S3_ENDPOINT", s3.endpoint()},
            {"GALLERY_S3_BUCKET", "gallery"},    {"GALLERY_S3_REGION", "us-east-1"},
            {"GALLERY_S3_ACCESS_KEY", "S3RVER"}, {"GALLERY_S3_SECRET_KEY", "S3RVER"},
            {"GALLERY_BACKUP_TO", "s3"}};
}

std::set<std::string> files_in(const fs::path& folder) {
    std::set<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec))
        names.insert(entry.path().filename().string());
    return names;
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

    // A newer backup pushes the first out of retention (keep 1). Right after it the row
    // is still held: it was queued within the hold's 5-minute margin before it.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    const json second = json_of(gallery_run(server, {"backup", "--json"}));
    CHECK(second["pruned"].size() == 1);
    CHECK(json_of(gallery_run(server, {"cleanup", "--json"}))["deleted"] == 0);
    // As if the delete came 6 minutes before the new backup: the object goes.
    {
        db::Connection connection({.path = server.dir.db_path()});
        db::execute_script(connection,
                           "UPDATE deletion_queue SET queued_at = queued_at - 360000000");
    }
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

TEST_CASE(
    "backups kept in the S3 bucket restore and leave by retention and are never swept or queued") {
    testing::S3rver s3;
    auto settings = s3_settings(s3);
    settings["GALLERY_BACKUP_KEEP"] = "2";
    testing::ServedGallery server(settings);
    const fs::path work = server.env.at("GALLERY_BACKUP_DIR");
    const auto bucket = storage::make_s3_storage(s3.options());
    auto client = server.client();
    for (int i = 0; i < 3; ++i) upload(client, "before");

    const json first = json_of(gallery_run(server, {"backup", "--json"}));
    const std::string name = first["name"];
    CHECK(first["location"] == "s3://gallery/backups/");
    CHECK(first["image_count"] == 3);
    for (const std::string& file : {name + ".db.gz", name + ".json"}) {
        auto head = bucket->head("backups/" + file);
        REQUIRE(head);
        CHECK(head->has_value());
    }
    // The work folder keeps nothing once a backup is stored.
    for (const std::string& file : files_in(work)) CHECK_FALSE(file.starts_with("gallery-"));

    // Uploaded after the backup: the restore names it as unreferenced, queues nothing.
    const json later = upload(client, "after");
    const fs::path restored = server.dir.path() / "restored.db";
    const json report = json_of(gallery_run(
        server, {"backup", "--restore", "latest", "--to", restored.string(), "--json"}));
    CHECK(report["missing_count"] == 0);
    CHECK(report["unreferenced_count"] == 1);
    CHECK(report["unreferenced_sample"][0] == "images/" + later["filename"].get<std::string>());
    CHECK(images_in(restored) == 3);
    CHECK(json_of(gallery_run(server, {"stats", "--json"}))["queue"]["pending"] == 0);

    // Neither the sweep (over the whole bucket) nor a key given by hand reaches a backup.
    const json swept = json_of(gallery_run(
        server, {"enqueue", "--orphans", "--prefix", "", "--older-than", "0", "--json"}));
    CHECK(swept["queued"] == 0);
    CHECK(swept["protected"] == 2);
    const auto by_hand = gallery_run(server, {"enqueue", "backups/" + name + ".db.gz"});
    CHECK(by_hand.exit_code == 2);
    CHECK(by_hand.err.find("backup_prefix") != std::string::npos);

    // Retention (keep 2) removes the oldest from the bucket.
    for (int i = 0; i < 2; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // names are per second
        json_of(gallery_run(server, {"backup", "--json"}));
    }
    const json listed = json_of(gallery_run(server, {"backup", "--list", "--json"}));
    REQUIRE(listed["backups"].size() == 2);
    CHECK(listed["backups"][0]["name"] != name);
    CHECK_FALSE(bucket->head("backups/" + name + ".db.gz")->has_value());
    CHECK_FALSE(bucket->head("backups/" + name + ".json")->has_value());

    // A damaged object is refused at restore, before anything is written.
    const std::string newest = listed["backups"][1]["name"];
    REQUIRE(bucket->put("backups/" + newest + ".db.gz", "not the backup", "application/gzip"));
    const fs::path other = server.dir.path() / "other.db";
    const auto damaged =
        gallery_run(server, {"backup", "--restore", newest, "--to", other.string()});
    CHECK(damaged.exit_code == 2);
    CHECK(damaged.err.find("damaged") != std::string::npos);
    CHECK_FALSE(fs::exists(other));
    for (const std::string& file : files_in(work)) CHECK_FALSE(file.starts_with("gallery-"));
}

TEST_CASE("backup settings that cannot work exit 2 with a sentence") {
    testing::TempDir dir;
    const std::map<std::string, std::string> base{
        {"GALLERY_DB", dir.db_path().string()}, {"GALLERY_MEDIA_ROOT", dir.media_root().string()}};
    const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases{
        {{{"GALLERY_BACKUP_TO", "s3"}}, "storage is local"},
        {{{"GALLERY_BACKUP_TO", "tape"}}, "expected folder or s3"},
        {{{"GALLERY_BACKUP_PREFIX", "images/backups/"}}, "overlaps the prefix images/"},
        {{{"GALLERY_BACKUP_PREFIX", "variants/"}}, "overlaps the prefix variants/"},
        {{{"GALLERY_BACKUP_PREFIX", "img"}}, "ending in /"},
        {{{"GALLERY_BACKUP_PREFIX", "../up/"}}, "ending in /"},
    };
    for (const auto& [extra, sentence] : cases) {
        auto env = base;
        env.insert(extra.begin(), extra.end());
        const auto result =
            testing::run_process({GALLERY_BINARY, "backup", "--list"}, {.environment = env});
        INFO(result.err);
        CHECK(result.exit_code == 2);
        CHECK(result.err.find(sentence) != std::string::npos);
    }
}

TEST_CASE("a backup killed at any moment leaves no backup listed that does not restore") {
    testing::ServedGallery server;
    const fs::path folder = server.env.at("GALLERY_BACKUP_DIR");
    seed_images(server.dir.db_path(), 50'000);
    // How long one whole backup takes here: the kills land across it.
    const auto started = std::chrono::steady_clock::now();
    json_of(gallery_run(server, {"backup", "--json"}));
    const auto whole = std::chrono::steady_clock::now() - started;
    const int rounds = 8;
    for (int round = 0; round < rounds; ++round) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a new name each round
        std::vector<std::string> argv{GALLERY_BINARY, "backup"};
        const pid_t pid = testing::start_process(argv, {.environment = server.env},
                                                 (server.dir.path() / "backup.out").string());
        std::this_thread::sleep_for(whole * (round + 1) / (rounds + 1));
        ::kill(pid, SIGKILL);
        testing::wait_process(pid);
    }
    // Every backup listed is whole: it restores, checksum and integrity checked.
    const json listed = json_of(gallery_run(server, {"backup", "--list", "--json"}));
    REQUIRE(listed["backups"].size() >= 1);
    for (const json& backup : listed["backups"]) {
        const fs::path target = server.dir.path() / (backup["name"].get<std::string>() + ".db");
        const auto restored = gallery_run(
            server, {"backup", "--restore", backup["name"], "--to", target.string(), "--json"});
        INFO(restored.err);
        CHECK(restored.exit_code == 0);
    }
    // A data file whose manifest was never written, older than the newest backup.
    std::ofstream(folder / "gallery-20000101T000000Z.db.gz") << "unfinished";
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    json_of(gallery_run(server, {"backup", "--json"}));
    // The next run tidies: no partial file, no data file without its manifest.
    const std::set<std::string> files = files_in(folder);
    for (const std::string& file : files) {
        INFO(file);
        CHECK(file.find(".partial") == std::string::npos);  // -journal files too
        if (file.ends_with(".db.gz"))
            CHECK(files.contains(file.substr(0, file.size() - 6) + ".json"));
    }
}
