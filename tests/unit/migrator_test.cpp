#include "gallery/db/statement.hpp"

#include <catch2/catch.hpp>
#include <thread>

#include "gallery/db/migrator.hpp"
#include "gallery/catalog/catalog.hpp"
#include "support/fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;

TEST_CASE("migrate creates the schema once; running it again is a no-op") {
    testing::TempDir dir;
    const auto path = dir.path() / "nested" / "folder" / "gallery.db";
    db::Connection connection({.path = path, .create_if_missing = true});
    auto first = db::migrate(connection, db::embedded_migrations(), 1000);
    REQUIRE(first);
    CHECK(*first == static_cast<int>(db::embedded_migrations().size()));
    auto second = db::migrate(connection, db::embedded_migrations(), 2000);
    REQUIRE(second);
    CHECK(*second == 0);
    CHECK(db::query_int64(connection,
                          "SELECT COUNT(*) FROM sqlite_master WHERE name = '"
                          "images"
                          "'") == 1);
    CHECK(db::query_int64(connection,
                          "SELECT COUNT(*) FROM sqlite_master WHERE name = '"
                          "deletion_queue"
                          "'") == 1);
    auto status = db::schema_status(connection, db::embedded_migrations());
    REQUIRE(status);
    CHECK(status->current());
    CHECK(status->migrations.front().applied_at == 1000);
    CHECK_NOTHROW(db::require_current_schema(connection));
}

TEST_CASE("the database is opened in WAL mode with foreign keys on") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir.db_path());
    CHECK(db::query_text(connection, "PRAGMA journal_mode") == "wal");
    CHECK(db::query_int64(connection, "PRAGMA foreign_keys") == 1);
}

TEST_CASE("a database newer than the binary is refused without a write") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir.db_path());
    db::execute_script(
        connection,
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future', 1)");
    const std::int64_t changes_before = db::query_int64(connection, "SELECT total_changes()");
    auto result = db::migrate(connection, db::embedded_migrations(), 5);
    REQUIRE_FALSE(result);
    CHECK(result.error().message.find("newer than this binary") != std::string::npos);
    CHECK(db::query_int64(connection, "SELECT total_changes()") == changes_before);
    CHECK_THROWS_AS(db::require_current_schema(connection), StartupError);
}

TEST_CASE("commands other than migrate refuse a database that is missing or not migrated") {
    testing::TempDir dir;
    CHECK_THROWS_AS(db::Connection({.path = dir.db_path()}), StartupError);
    CHECK_FALSE(std::filesystem::exists(dir.db_path()));
    db::Connection connection({.path = dir.db_path(), .create_if_missing = true});
    try {
        db::require_current_schema(connection);
        FAIL("expected a StartupError");
    } catch (const StartupError& e) {
        CHECK(std::string(e.what()).find("run `gallery migrate`") != std::string::npos);
    }
}

TEST_CASE("a migration that fails leaves no trace of itself") {
    testing::TempDir dir;
    db::Connection connection({.path = dir.db_path(), .create_if_missing = true});
    std::vector<db::Migration> migrations = db::embedded_migrations();
    migrations.push_back(
        {9000, "9000_broken", "CREATE TABLE half (x INTEGER); SELECT no_such_function();"});
    auto result = db::migrate(connection, migrations, 1);
    REQUIRE_FALSE(result);
    CHECK_FALSE(db::query_int64(connection,
                                "SELECT COUNT(*) FROM sqlite_master WHERE name = '"
                                "half"
                                "'") == 1);
    auto status = db::schema_status(connection, migrations);
    REQUIRE(status);
    CHECK(status->database_version == db::embedded_migrations().back().version);
}

TEST_CASE("upgrading a database keeps every image id and never gives a deleted id again") {
    testing::TempDir dir;
    db::Connection connection({.path = dir.db_path(), .create_if_missing = true});
    const auto& all = db::embedded_migrations();
    const auto before_ids_were_kept = std::ranges::find_if(all, [](const db::Migration& m) {
        return m.name.find("image_ids_never_reused") != std::string::npos;
    });
    REQUIRE(before_ids_were_kept != all.end());
    const std::vector<db::Migration> old_schema(all.begin(), before_ids_were_kept);
    REQUIRE(db::migrate(connection, old_schema, 1));
    for (int id : {3, 7}) {
        db::Statement insert(connection,
                             "INSERT INTO images (id, filename, storage_key, original_filename,"
                             " client_id, name, size, content_type, uploaded_at)"
                             " VALUES (?, ?, ?, 'a.jpg', 'c', '', 1, 'image/jpeg', 5)");
        insert.bind(1, id);
        insert.bind(2, std::to_string(id) + ".jpg");
        insert.bind(3, "images/" + std::to_string(id) + ".jpg");
        insert.execute();
    }
    REQUIRE(db::migrate(connection, all, 2));
    CHECK(db::query_text(connection,
                         "SELECT group_concat(id) FROM (SELECT id FROM images ORDER BY id)") ==
          "3,7");
    CHECK(db::query_text(connection, "SELECT name FROM images WHERE id = 7").empty());
    CHECK_FALSE(db::query_int64(connection, "SELECT name IS NULL FROM images WHERE id = 7"));
    db::execute_script(connection, "DELETE FROM images WHERE id = 7");
    CHECK(db::query_int64(connection,
                          "INSERT INTO images (filename, storage_key, original_filename, client_id,"
                          " size, content_type, uploaded_at) VALUES ('n.jpg', 'images/n.jpg',"
                          " 'n.jpg', 'c', 1, 'image/jpeg', 6) RETURNING id") == 8);
}

TEST_CASE("two migrates at once both succeed and apply each migration once", "[postgresql]") {
    testing::TempDir dir;
    db::ConnectionOptions options = dir.database_options();
    options.create_if_missing = true;
    const auto& migrations =
        db::embedded_migrations(testing::on_postgresql() ? db::Engine::postgresql
                                                         : db::Engine::sqlite);
    std::vector<Result<int>> results(2, Result<int>(0));
    {
        std::vector<std::jthread> hosts;
        for (auto& result : results) {
            hosts.emplace_back([&options, &migrations, &result] {
                db::Connection connection(options);
                result = db::migrate(connection, migrations, 7);
            });
        }
    }
    REQUIRE(results[0]);
    REQUIRE(results[1]);
    CHECK(*results[0] + *results[1] == static_cast<int>(migrations.size()));
    db::Connection connection(options);
    CHECK(db::query_int64(connection, "SELECT COUNT(*) FROM schema_migrations") ==
          static_cast<std::int64_t>(migrations.size()));
    CHECK_NOTHROW(db::require_current_schema(connection));
    if (connection.engine() == db::Engine::postgresql) {
        // Gallery's tables are in its own schema, never beside another application's.
        CHECK(db::query_int64(connection,
                              "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'gallery'"
                              " AND tablename = 'images'") == 1);
        CHECK(db::query_int64(connection,
                              "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'") == 0);
    }
}

TEST_CASE("a schema newer than the binary is refused by migrate and by every other command",
          "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    db::execute_script(
        connection,
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future', 1)");
    auto result = db::migrate(connection, db::embedded_migrations(connection.engine()), 5);
    REQUIRE_FALSE(result);
    CHECK(result.error().message.find("newer than this binary") != std::string::npos);
    CHECK(db::query_int64(connection, "SELECT MAX(version) FROM schema_migrations") == 999);
    CHECK_THROWS_AS(db::require_current_schema(connection), StartupError);
}

TEST_CASE("image ids are never given twice, even after the highest is deleted", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    const auto first = testing::add_image(connection, "images/a.jpg");
    const auto second = testing::add_image(connection, "images/b.jpg");
    const std::vector<catalog::ImageId> highest{second.id};
    REQUIRE(catalog::delete_images(connection, highest, 2));
    const auto third = testing::add_image(connection, "images/c.jpg");
    CHECK(second.id > first.id);
    CHECK(third.id > second.id);
}
