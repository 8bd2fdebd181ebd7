#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "gallery/storage/local_storage.hpp"
#include "support/read_object.hpp"
#include "support/storage_contract.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;

TEST_CASE("the local backend keeps the storage contract") {
    testing::TempDir dir;
    auto store = storage::make_local_storage(dir.media_root());
    testing::check_storage_contract(*store);
}

TEST_CASE("a listing continued from a settled folder still sees a key added between pages") {
    testing::TempDir dir;
    auto store = storage::make_local_storage(dir.media_root());
    for (const char* key : {"images/a.jpg", "images/c.jpg"})
        REQUIRE(store->put(key, "x", "image/jpeg"));
    // An hour-old folder: old enough that the backend may serve the next page from the
    // first page's walk, if the folder has not changed since.
    const timespec hour_ago[2] = {{::time(nullptr) - 3600, 0}, {::time(nullptr) - 3600, 0}};
    REQUIRE(::utimensat(AT_FDCWD, (dir.media_root() / "images").c_str(), hour_ago, 0) == 0);
    auto first = store->list("images/", "", 1);
    REQUIRE(first);
    REQUIRE(first->objects.size() == 1);
    CHECK(first->objects[0].key == "images/a.jpg");
    REQUIRE(store->put("images/b.jpg", "x", "image/jpeg"));
    auto rest = store->list("images/", "images/a.jpg", 10);
    REQUIRE(rest);
    REQUIRE(rest->objects.size() == 2);
    CHECK(rest->objects[0].key == "images/b.jpg");
    CHECK(rest->objects[1].key == "images/c.jpg");
}

TEST_CASE("a key that escapes the media root is refused and nothing outside is touched") {
    testing::TempDir dir;
    const auto outside = dir.path() / "outside.txt";
    std::ofstream(outside) << "keep me";
    auto store = storage::make_local_storage(dir.media_root());
    auto removed = testing::remove_object(*store, "../outside.txt");
    REQUIRE_FALSE(removed);
    CHECK(removed.error().kind == ErrorKind::invalid_input);
    CHECK_FALSE(store->put("../outside.txt", "overwritten", "text/plain"));
    CHECK(std::filesystem::exists(outside));
    std::ifstream in(outside);
    std::string content;
    std::getline(in, content);
    CHECK(content == "keep me");
}

TEST_CASE("local writes leave no temporary files behind and are not listed half-written") {
    testing::TempDir dir;
    auto store = storage::make_local_storage(dir.media_root());
    REQUIRE(store->put("images/a.jpg", std::string(100'000, 'z'), "image/jpeg"));
    std::size_t entries = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.media_root() / "images")) {
        CHECK(entry.path().filename() == "a.jpg");
        ++entries;
    }
    CHECK(entries == 1);
    // A leftover temporary file (as a crash mid-write would leave) is never listed.
    testing::write_file(dir.media_root(), "images/.a.jpg.tmp-123", "partial");
    auto page = store->list("images/", "", 10);
    REQUIRE(page);
    REQUIRE(page->objects.size() == 1);
    CHECK(page->objects[0].key == "images/a.jpg");
}

TEST_CASE("a per-key failure is reported for that key only") {
    testing::TempDir dir;
    auto store = storage::make_local_storage(dir.media_root());
    REQUIRE(store->put("images/ok.jpg", "x", "image/jpeg"));
    // A folder where a file is expected cannot be unlinked: a real per-key error.
    std::filesystem::create_directories(dir.media_root() / "images" / "folder.jpg" / "inside");
    const std::vector<std::string> keys{"images/ok.jpg", "images/folder.jpg"};
    auto outcomes = store->remove_many(keys);
    REQUIRE(outcomes);
    CHECK_FALSE((*outcomes)[0].error.has_value());
    REQUIRE((*outcomes)[1].error.has_value());
    CHECK((*outcomes)[1].error->message.find("images/folder.jpg") != std::string::npos);
}

TEST_CASE("a process killed while writing an object leaves no file behind") {
    testing::TempDir dir;
    auto store = storage::make_local_storage(dir.media_root());
    REQUIRE(store->put("images/first.jpg", "x", "image/jpeg"));  // the folder exists
    const std::string large(256 * 1024 * 1024, 'z');
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        (void)store->put("images/big.jpg", large, "image/jpeg");
        ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFSIGNALED(status));  // killed part-way, not after finishing
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir.media_root() / "images")) {
        names.push_back(entry.path().filename().string());
    }
    CHECK(names == std::vector<std::string>{"first.jpg"});
}

TEST_CASE("a symlink in the media root is never followed, to read, write or delete") {
    testing::TempDir dir;
    const auto outside = dir.path() / "outside";
    std::filesystem::create_directories(outside);
    std::ofstream(outside / "passwd") << "root:x:0:0";
    auto store = storage::make_local_storage(dir.media_root());
    std::filesystem::create_directories(dir.media_root() / "images");
    // A file symlink, and a folder symlink, both pointing out of the root.
    std::filesystem::create_symlink(outside / "passwd", dir.media_root() / "images" / "a.png");
    std::filesystem::create_directory_symlink(outside, dir.media_root() / "etc");

    for (const std::string key : {"images/a.png", "etc/passwd"}) {
        INFO(key);
        auto info = store->head(key);
        REQUIRE(info);
        CHECK_FALSE(*info);
        auto opened = store->open(key);
        REQUIRE(opened);
        CHECK_FALSE(*opened);
    }
    // Through the folder link nothing is deleted or written.
    REQUIRE(testing::remove_object(*store, "etc/passwd"));  // absent: nothing to delete
    CHECK_FALSE(store->put("etc/new.png", "x", "image/png"));
    CHECK_FALSE(std::filesystem::exists(outside / "new.png"));
    // The file link itself may go (it is in the root); what it points to stays.
    REQUIRE(testing::remove_object(*store, "images/a.png"));
    CHECK_FALSE(std::filesystem::is_symlink(dir.media_root() / "images" / "a.png"));
    std::ifstream in(outside / "passwd");
    std::string content;
    std::getline(in, content);
    CHECK(content == "root:x:0:0");
    // A put over a link replaces the link, never the file it names.
    std::filesystem::create_symlink(outside / "passwd", dir.media_root() / "images" / "b.png");
    REQUIRE(store->put("images/b.png", "new bytes", "image/png"));
    CHECK_FALSE(std::filesystem::is_symlink(dir.media_root() / "images" / "b.png"));
    std::ifstream again(outside / "passwd");
    std::getline(again, content);
    CHECK(content == "root:x:0:0");
}
