// A full disk under the database: the API can still delete (the space serve keeps in
// reserve beside the database), says precisely why an upload fails, /healthz says
// the disk is full, and everything works again once space is freed. The disk is a
// small tmpfs mounted for the test (tests run as root).

#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "gallery/db/statement.hpp"
#include "support/api_server.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/served.hpp"

using namespace gallery;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A tmpfs of `megabytes` at `folder`, unmounted when it goes.
class SmallDisk {
  public:
    SmallDisk(const fs::path& folder, int megabytes) : m_folder(folder) {
        fs::create_directories(folder);
        const std::string options = "size=" + std::to_string(megabytes) + "m";
        m_mounted = ::mount("tmpfs", folder.c_str(), "tmpfs", 0, options.c_str()) == 0;
    }
    ~SmallDisk() {
        if (m_mounted) ::umount2(m_folder.c_str(), MNT_DETACH);
    }
    SmallDisk(const SmallDisk&) = delete;
    SmallDisk& operator=(const SmallDisk&) = delete;
    bool mounted() const { return m_mounted; }

  private:
    fs::path m_folder;
    bool m_mounted = false;
};

// Writes zeros into `file` until the disk refuses more.
void fill(const fs::path& file) {
    std::ofstream out(file, std::ios::binary);
    const std::string block(1 << 20, '\0');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
    }
}

}  // namespace

TEST_CASE("on a full disk deletes still work and healthz and uploads say the disk is full") {
    if (::geteuid() != 0) FAIL("this test mounts a small tmpfs: run the suite as root, as CI does");
    testing::TempDir dir;
    const fs::path disk_folder = dir.path() / "dbdisk";
    const SmallDisk disk(disk_folder, 100);
    REQUIRE(disk.mounted());
    const fs::path database = disk_folder / "gallery.db";
    const std::map<std::string, std::string> env{
        {"GALLERY_DB", database.string()},
        {"GALLERY_MEDIA_ROOT", dir.media_root().string()},
        {"GALLERY_API_KEY", testing::ServedGallery::k_api_key}};
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    const testing::ServedProcess served = testing::start_serve(env, dir.path() / "serve.out");
    httplib::Client client("127.0.0.1", served.port);
    client.set_default_headers({{"X-API-Key", testing::ServedGallery::k_api_key}});
    const auto upload = [&] {
        return testing::upload(client, "a.png", testing::fake_image(".png"), "c");
    };
    std::vector<int> ids;
    for (int i = 0; i < 4; ++i) {
        auto answer = upload();
        REQUIRE(answer);
        REQUIRE(answer->status == 201);
        ids.push_back(json::parse(answer->body)["id"].get<int>());
    }
    CHECK(fs::file_size(database.string() + "-reserve") == 32u << 20);
    REQUIRE(client.Get("/healthz")->status == 200);

    // serve checkpoints the WAL every 250 ms, and a writer after a full checkpoint
    // rewrites the log from its start in space the file already has: the next upload
    // would then need no new space at all. An empty log makes every write need some.
    {
        db::Connection connection({.path = database});
        REQUIRE(db::query_int64(connection, "PRAGMA wal_checkpoint(TRUNCATE)") == 0);
    }
    fill(disk_folder / "filler");
    // An upload cannot be recorded: a 503 that says why, and nothing half-stored.
    auto refused = upload();
    REQUIRE(refused);
    CHECK(refused->status == 503);
    CHECK(refused->get_header_value("Retry-After") == "60");
    CHECK(json::parse(refused->body)["error"].get<std::string>().find("disk that holds the "
                                                                      "database is full") !=
          std::string::npos);
    // A delete frees space all the same, on the reserve.
    auto deleted = client.Post("/api/bulk-delete/", json{{"image_ids", {ids[0], ids[1]}}}.dump(),
                               "application/json");
    REQUIRE(deleted);
    CHECK(deleted->status == 200);
    CHECK(json::parse(deleted->body)["deleted_count"] == 2);
    CHECK_FALSE(fs::exists(database.string() + "-reserve"));
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 503);
    CHECK(json::parse(health->body)["database"] == "disk full");
    CHECK(client.Delete("/api/delete/" + std::to_string(ids[2]) + "/")->status == 200);

    // Space freed: the reserve is made again and uploads work.
    fs::remove(disk_folder / "filler");
    CHECK(client.Get("/healthz")->status == 200);
    CHECK(fs::exists(database.string() + "-reserve"));
    auto again = upload();
    REQUIRE(again);
    CHECK(again->status == 201);
    ::kill(served.pid, SIGTERM);
    testing::wait_process(served.pid);
    db::Connection connection({.path = database});
    CHECK(db::query_int64(connection, "SELECT COUNT(*) FROM images") == 2);
    CHECK(db::query_int64(connection, "SELECT COUNT(*) FROM deletion_queue") == 3);
}
