#pragma once
// The one test body every Storage backend runs (local disk and S3).
// Call from a TEST_CASE with a fresh, empty backend.

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "gallery/storage/storage.hpp"
#include "support/read_object.hpp"
#include "support/temp_dir.hpp"

namespace gallery::testing {

inline void check_storage_contract(storage::Storage& store) {
    SECTION("put then a read and head return the bytes and their size") {
        const std::string bytes("binary\0data\xff", 12);
        REQUIRE(store.put("images/a.jpg", bytes, "image/jpeg"));
        auto got = read_object(store, "images/a.jpg");
        REQUIRE(got);
        REQUIRE(got->has_value());
        CHECK(**got == bytes);
        auto info = store.head("images/a.jpg");
        REQUIRE(info);
        REQUIRE(info->has_value());
        CHECK((*info)->size == bytes.size());
        CHECK((*info)->key == "images/a.jpg");
    }
    SECTION("a file put with put_file comes back whole with get_file") {
        TempDir files;
        std::string bytes(700'000, '\0');  // more than one read buffer, every byte value
        for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7919 % 251);
        std::ofstream(files.path() / "in.bin", std::ios::binary) << bytes;
        REQUIRE(store.put_file("backups/a.db.gz", files.path() / "in.bin", "application/gzip"));
        CHECK(store.head("backups/a.db.gz")->value().size == bytes.size());
        REQUIRE(store.get_file("backups/a.db.gz", files.path() / "out.bin"));
        std::ifstream out(files.path() / "out.bin", std::ios::binary);
        CHECK(std::string(std::istreambuf_iterator<char>(out), {}) == bytes);
        REQUIRE(store.put_file("backups/empty", files.path() / "in.bin", "text/plain"));
        std::ofstream(files.path() / "empty.bin", std::ios::binary).flush();
        REQUIRE(store.put_file("backups/empty", files.path() / "empty.bin", "text/plain"));
        REQUIRE(store.get_file("backups/empty", files.path() / "empty-out.bin"));
        CHECK(std::filesystem::file_size(files.path() / "empty-out.bin") == 0);
    }
    SECTION("get_file of a missing object is not_found and creates no file") {
        TempDir files;
        auto got = store.get_file("backups/none.db.gz", files.path() / "out.bin");
        REQUIRE_FALSE(got);
        CHECK(got.error().kind == ErrorKind::not_found);
        CHECK_FALSE(std::filesystem::exists(files.path() / "out.bin"));
        auto put = store.put_file("backups/x", files.path() / "missing.bin", "text/plain");
        REQUIRE_FALSE(put);
        CHECK(put.error().kind == ErrorKind::io);
    }
    SECTION("put replaces an existing object") {
        REQUIRE(store.put("images/a.jpg", "old", "image/jpeg"));
        REQUIRE(store.put("images/a.jpg", "new!", "image/jpeg"));
        CHECK(read_object(store, "images/a.jpg")->value() == "new!");
    }
    SECTION("a missing object is not there, which is not a failure") {
        auto got = read_object(store, "images/none.jpg");
        REQUIRE(got);
        CHECK_FALSE(got->has_value());
        auto info = store.head("images/none.jpg");
        REQUIRE(info);
        CHECK_FALSE(info->has_value());
    }
    SECTION("removing an object twice is fine") {
        REQUIRE(store.put("images/b.png", "b", "image/png"));
        REQUIRE(remove_object(store, "images/b.png"));
        REQUIRE(remove_object(store, "images/b.png"));
        CHECK_FALSE(store.head("images/b.png")->has_value());
    }
    SECTION("remove_many answers every key in order, missing keys count as gone") {
        REQUIRE(store.put("images/1.jpg", "1", "image/jpeg"));
        REQUIRE(store.put("images/2.jpg", "2", "image/jpeg"));
        REQUIRE(store.put("other/3.jpg", "3", "image/jpeg"));
        // Folders interleaved, keys under a folder that does not exist (on local disk it
        // is looked for once per batch) and a refused key among them: each answer at its
        // key's place.
        const std::vector<std::string> keys{
            "images/1.jpg",    "nowhere/a.jpg", "other/3.jpg",  "images/missing.jpg",
            "../escape.jpg",   "nowhere/b.jpg", "images/2.jpg", "nowhere/deeper/c.jpg"};
        auto outcomes = store.remove_many(keys);
        REQUIRE(outcomes);
        REQUIRE(outcomes->size() == keys.size());
        for (std::size_t i = 0; i < keys.size(); ++i) {
            INFO(keys[i]);
            CHECK((*outcomes)[i].key == keys[i]);
            CHECK((*outcomes)[i].error.has_value() == (keys[i] == "../escape.jpg"));
        }
        CHECK_FALSE(store.head("images/1.jpg")->has_value());
        CHECK_FALSE(store.head("images/2.jpg")->has_value());
        CHECK_FALSE(store.head("other/3.jpg")->has_value());
    }
    SECTION("list pages through keys in order under a prefix, resuming after a key") {
        for (const char* key : {"images/c.jpg", "images/a.jpg", "images/b.jpg", "other/z.jpg"}) {
            REQUIRE(store.put(key, "x", "image/jpeg"));
        }
        auto first = store.list("images/", "", 2);
        REQUIRE(first);
        REQUIRE(first->objects.size() == 2);
        CHECK(first->objects[0].key == "images/a.jpg");
        CHECK(first->objects[1].key == "images/b.jpg");
        CHECK(first->truncated);
        auto second = store.list("images/", first->objects.back().key, 2);
        REQUIRE(second);
        REQUIRE(second->objects.size() == 1);
        CHECK(second->objects[0].key == "images/c.jpg");
        CHECK_FALSE(second->truncated);
        auto none = store.list("nothing-here/", "", 10);
        REQUIRE(none);
        CHECK(none->objects.empty());
    }
    SECTION("a page answers as a fresh listing would, whatever was listed before") {
        for (const char* key : {"images/a.jpg", "images/c.jpg", "images/e.jpg"}) {
            REQUIRE(store.put(key, "x", "image/jpeg"));
        }
        auto first = store.list("images/", "", 1);
        REQUIRE(first);
        REQUIRE(first->objects.size() == 1);
        REQUIRE(store.put("images/b.jpg", "x", "image/jpeg"));
        REQUIRE(remove_object(store, "images/c.jpg"));
        auto rest = store.list("images/", "images/a.jpg", 10);
        REQUIRE(rest);
        std::vector<std::string> keys;
        for (const auto& object : rest->objects) keys.push_back(object.key);
        CHECK(keys == std::vector<std::string>{"images/b.jpg", "images/e.jpg"});
    }
    SECTION("keys that could escape or confuse are refused before any I/O") {
        for (const std::string& bad :
             {std::string(""), std::string("/etc/passwd"), std::string("../x.jpg"),
              std::string("images/../../x.jpg"), std::string("images/./x.jpg"),
              std::string("images//x.jpg"), std::string("images\\x.jpg"),
              std::string("images/x\0.jpg", 14), std::string("images/.hidden"),
              std::string(1025, 'a')}) {
            INFO("key: " << bad);
            CHECK_FALSE(store.check_key(bad));
            auto put = store.put(bad, "x", "image/jpeg");
            REQUIRE_FALSE(put);
            CHECK(put.error().kind == ErrorKind::invalid_input);
            CHECK_FALSE(remove_object(store, bad));
            CHECK_FALSE(read_object(store, bad));
        }
    }
}

}  // namespace gallery::testing
