// The SQLite settings a connection's options ask for (include/gallery/db/connection.hpp):
// read back from SQLite itself, so an option that is not applied fails here rather than
// only in a benchmark.
#include <catch2/catch.hpp>

#include "gallery/cleanup/cleaner.hpp"
#include "gallery/db/statement.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;

TEST_CASE("a connection for batch writes applies its cache checkpoint and journal settings") {
    testing::TempDir dir;
    testing::open_migrated(dir);
    const std::filesystem::path path = dir.db_path();
    SECTION("the defaults are SQLite's") {
        db::Connection connection(db::ConnectionOptions{.path = path});
        CHECK(db::query_int64(connection, "PRAGMA wal_autocheckpoint") == 1000);
        CHECK(db::query_int64(connection, "PRAGMA temp_store") == 0);
    }
    SECTION("a cleaner's settings (the cleanup command)") {
        db::Connection connection(cleanup::cleaner_connection({.path = path}));
        CHECK(db::query_int64(connection, "PRAGMA cache_size") == -20 * 1024);
        CHECK(db::query_int64(connection, "PRAGMA wal_autocheckpoint") == 10'000);
        CHECK(db::query_int64(connection, "PRAGMA temp_store") == 2);  // MEMORY
    }
    SECTION("a cleaner's settings in serve, whose checkpointer thread copies the WAL") {
        db::Connection connection(
            cleanup::cleaner_connection({.path = path, .checkpoint_in_background = true}));
        CHECK(db::query_int64(connection, "PRAGMA wal_autocheckpoint") == 0);
        CHECK(db::query_int64(connection, "PRAGMA temp_store") == 2);
    }
}
