// `gallery migrate --from-django`: the real binary imports an original deployment's
// database (tests/data/original: its schema at 0009) into gallery's, on SQLite and,
// as [postgresql] tests, from and into a real PostgreSQL (the original's tables in
// the same database as gallery's schema, as the original's deployment has them).

#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "gallery/catalog/catalog.hpp"
#include "gallery/db/statement.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;
using nlohmann::json;

namespace {

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The original's database for one test: a Django SQLite file, or (on PostgreSQL) the
// public schema of the test's own database, beside gallery's schema.
class Original {
  public:
    explicit Original(const testing::TempDir& dir)
        : m_source(testing::on_postgresql() ? dir.database()
                                            : (dir.path() / "django.sqlite3").string()),
          m_connection(open(m_source)) {}

    const std::string& source() const { return m_source; }
    db::Connection& connection() { return m_connection; }
    bool postgresql() const { return m_connection.engine() == db::Engine::postgresql; }

    void create_schema() {
        db::execute_script(m_connection,
                           read_text(std::filesystem::path(GALLERY_TEST_DATA) / "original" /
                                     (postgresql() ? "postgresql_0009.sql" : "sqlite_0009.sql")));
    }
    // A time as the original's column holds it.
    std::string time(const std::string& utc) const { return postgresql() ? utc + "+00" : utc; }

    void add_image(std::int64_t id, const std::string& filename, const std::string& key,
                   const std::string& client_id, const std::optional<std::string>& name,
                   const std::optional<std::string>& description, std::int64_t size,
                   const std::string& uploaded_at) {
        db::Statement insert(m_connection,
                             "INSERT INTO assets_image (id, filename, image, original_filename,"
                             " client_id, name, description, size, uploaded_at)"
                             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
        insert.bind(1, id);
        insert.bind(2, filename);
        insert.bind(3, key);
        insert.bind(4, "orig-" + filename);
        insert.bind(5, client_id);
        insert.bind(6, name);
        insert.bind(7, description);
        insert.bind(8, size);
        insert.bind(9, time(uploaded_at));
        insert.execute();
    }
    void add_pending(std::int64_t id, const std::string& key,
                     const std::optional<std::string>& client_id, const std::string& queued_at,
                     int attempts, const std::optional<std::string>& last_error) {
        db::Statement insert(m_connection,
                             "INSERT INTO assets_pendingfiledeletion (id, file_path, client_id,"
                             " queued_at, attempts, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        insert.bind(1, id);
        insert.bind(2, key);
        insert.bind(3, client_id);
        insert.bind(4, time(queued_at));
        insert.bind(5, attempts);
        insert.bind(6, last_error);
        insert.execute();
    }
    // The original's sequence has given ids up to `id` (the highest ones deleted since).
    void sequence_gave(std::int64_t id) {
        db::execute_script(m_connection,
                           postgresql()
                               ? "SELECT setval(pg_get_serial_sequence('assets_image', 'id'), " +
                                     std::to_string(id) + ")"
                               : "UPDATE sqlite_sequence SET seq = " + std::to_string(id) +
                                     " WHERE name = 'assets_image'");
    }
    void run(const std::string& sql) { db::execute_script(m_connection, sql); }

  private:
    static db::Connection open(const std::string& source) {
        if (!source.starts_with("postgresql://"))
            return db::Connection({.path = source, .create_if_missing = true});
        db::ConnectionOptions options;
        options.postgresql_url = source;
        options.foreign_read_only = true;  // the server's search_path: the public schema
        db::Connection connection(options);
        db::execute_script(connection, "SET default_transaction_read_only = off");
        return connection;
    }

    std::string m_source;
    db::Connection m_connection;
};

// The fixture: gaps in ids, a renamed key, '' and NULL, case variants (ASCII ones
// merge, non-ASCII ones do not), microseconds, ids deleted above the highest.
void fill(Original& original) {
    original.create_schema();
    original.add_image(1, "a1.jpg", "images/a1.jpg", "alpha", "", std::nullopt, 1000,
                       "2024-05-01 12:34:56.123456");
    original.add_image(2, "b2.png", "images/b2_AbC1234.png", "Alpha", std::nullopt, "", 2000,
                       "2024-05-02 00:00:00.000001");
    original.add_image(5, "c5.gif", "images/c5.gif", "\xC3\x89mile", "\xC3\x89t\xC3\xA9",
                       "na\xC3\xAFve", 50, "2024-05-03 23:59:59.999999");
    original.add_image(6, "d6.webp", "images/d6.webp", "\xC3\xA9mile", "x", "y", 60,
                       "2024-05-04 08:00:00");
    original.add_image(7, "e7.jpeg", "images/e7.jpeg", "ALPHA", "seven", std::nullopt, 70,
                       "2024-05-05 10:11:12.5");
    original.add_image(9, "f9.bmp", "images/f9.bmp", "bob", std::nullopt, std::nullopt, 90,
                       "2024-05-06 10:00:00");
    original.sequence_gave(12);
    original.add_pending(1, "images/old1.jpg", "alpha", "2024-04-01 09:00:00.25", 0, std::nullopt);
    original.add_pending(2, "images/old2.png", std::nullopt, "2024-04-02 09:00:00", 2, "timeout");
    original.add_pending(3, "images/c5.gif", "\xC3\x89mile", "2024-04-03 09:00:00", 1,
                         std::nullopt);  // a live image's key: not queued
    original.add_pending(4, "images/old1.jpg", "alpha", "2024-04-04 09:00:00", 0,
                         std::nullopt);  // the same key twice: queued once
    original.add_pending(6, "images/old3.jpg", "bob", "2024-04-05 09:00:00", 7,
                         "403 Forbidden");  // past gallery's max_attempts (3): dead at once
}

struct Gallery {
    testing::TempDir& dir;
    std::string database = dir.database();  // GALLERY_DB
    std::string public_url{};               // GALLERY_PUBLIC_URL, when not empty
    testing::ProcessResult run(std::vector<std::string> args) const {
        args.insert(args.begin(), GALLERY_BINARY);
        std::map<std::string, std::string> environment{
            {"GALLERY_DB", database}, {"GALLERY_MEDIA_ROOT", dir.media_root().string()}};
        if (!public_url.empty()) environment.emplace("GALLERY_PUBLIC_URL", public_url);
        return testing::run_process(args, {.environment = environment});
    }
    json import(const std::string& source, std::vector<std::string> extra = {},
                int expected_exit = 0) const {
        std::vector<std::string> args{"migrate", "--from-django", source, "--json"};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto result = run(args);
        INFO("stdout: " << result.out << "\nstderr: " << result.err);
        REQUIRE(result.exit_code == expected_exit);
        REQUIRE_NOTHROW(json::parse(result.out));
        return json::parse(result.out);
    }
    db::Connection open() const { return db::Connection(testing::database_options_for(database)); }
};

catalog::Image image(db::Connection& connection, catalog::ImageId id) {
    auto found = catalog::get_image(connection, id);
    REQUIRE(found);
    REQUIRE(found->has_value());
    return **found;
}

std::int64_t count(db::Connection& connection, const std::string& sql) {
    return db::query_int64(connection, sql);
}

struct QueuedRow {
    std::string client_id;
    std::int64_t queued_at;
    std::int64_t attempts;
    std::optional<std::string> last_error;
    bool operator==(const QueuedRow&) const = default;
};

std::map<std::string, QueuedRow> queued(db::Connection& connection) {
    db::Statement rows(connection,
                       "SELECT file_path, client_id, queued_at, attempts, last_error"
                       " FROM deletion_queue WHERE state = 'pending'");
    std::map<std::string, QueuedRow> result;
    while (rows.step())
        result[rows.text(0)] = {rows.text(1), rows.int64(2), rows.int64(3), rows.optional_text(4)};
    return result;
}

}  // namespace

TEST_CASE("django import: an original's images and pending deletions come over with every field",
          "[postgresql]") {
    testing::TempDir dir;
    Original original(dir);
    fill(original);
    const Gallery gallery{dir};

    const json report = gallery.import(original.source());
    CHECK(report["written"] == true);
    CHECK(report["source_migration"] == "0009_pendingfiledeletion");
    CHECK(report["source_images"] == 6);
    CHECK(report["images"]["imported"] == 6);
    CHECK(report["pending_deletions"]["queued"] == 3);
    CHECK(report["pending_deletions"]["at_max_attempts"] == 1);
    CHECK(report["pending_deletions"]["already_queued"] == 1);
    CHECK(report["pending_deletions"]["still_referenced"] == 1);
    CHECK(report["merged_clients"] == json::array({json::array({"ALPHA", "Alpha", "alpha"})}));
    CHECK(report["next_id_above"] == 12);

    auto connection = gallery.open();
    const catalog::Image first = image(connection, 1);
    CHECK(first.filename == "a1.jpg");
    CHECK(first.storage_key == "images/a1.jpg");
    CHECK(first.original_filename == "orig-a1.jpg");
    CHECK(first.client_id == "alpha");
    CHECK(first.name == std::optional<std::string>(""));
    CHECK(first.description == std::nullopt);
    CHECK(first.size == 1000);
    CHECK(first.content_type == "image/jpeg");
    CHECK(to_iso8601(first.uploaded_at) == "2024-05-01T12:34:56.123456+00:00");
    const catalog::Image renamed = image(connection, 2);
    CHECK(renamed.storage_key == "images/b2_AbC1234.png");  // the `image` column, not filename
    CHECK(renamed.filename == "b2.png");
    CHECK(renamed.name == std::nullopt);
    CHECK(renamed.description == std::optional<std::string>(""));
    CHECK(renamed.content_type == "image/png");
    CHECK(to_iso8601(renamed.uploaded_at) == "2024-05-02T00:00:00.000001+00:00");
    const catalog::Image accented = image(connection, 5);
    CHECK(accented.client_id == "\xC3\x89mile");
    CHECK(accented.name == std::optional<std::string>("\xC3\x89t\xC3\xA9"));
    CHECK(accented.content_type == "image/gif");
    CHECK(to_iso8601(accented.uploaded_at) == "2024-05-03T23:59:59.999999+00:00");
    CHECK(image(connection, 6).content_type == "image/webp");
    CHECK(to_iso8601(image(connection, 7).uploaded_at) == "2024-05-05T10:11:12.500000+00:00");
    CHECK(image(connection, 9).content_type == "image/bmp");
    auto gap = catalog::get_image(connection, 3);
    REQUIRE(gap);
    CHECK(!gap->has_value());

    // The first import builds the read indexes once, at its end: they are all there,
    // and the search index holds the imported rows.
    const std::string index_count =
        connection.engine() == db::Engine::sqlite
            ? "SELECT COUNT(*) FROM sqlite_master WHERE tbl_name = 'images' AND name IN"
              " ('images_name', 'images_size', 'images_search_insert', 'images_search_update')"
            : "SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'images' AND (indexname IN"
              " ('images_name', 'images_size') OR indexname LIKE 'images\\_%\\_trigrams')";
    CHECK(db::query_int64(connection, index_count) ==
          (connection.engine() == db::Engine::sqlite ? 4 : 6));
    catalog::ImageQuery search;
    search.search = "B2.PN";  // its filename, any case: a search through the trigrams
    auto found = catalog::list_images(connection, search);
    REQUIRE(found);
    REQUIRE(found->images.size() == 1);
    CHECK(found->images[0].id == 2);

    // Per-client totals: ASCII case variants are one client, non-ASCII ones are not.
    auto clients = catalog::list_clients(connection, {});
    REQUIRE(clients);
    std::map<std::string, std::pair<std::int64_t, std::uint64_t>> totals;
    for (const auto& client : clients->clients)
        totals[client.client_id] = {client.image_count, client.total_size};
    CHECK(totals ==
          std::map<std::string, std::pair<std::int64_t, std::uint64_t>>{{"alpha", {3, 3070}},
                                                                        {"\xC3\x89mile", {1, 50}},
                                                                        {"\xC3\xA9mile", {1, 60}},
                                                                        {"bob", {1, 90}}});

    // The original's queue: times, attempts and errors kept; the live key left out.
    auto rows = queued(connection);
    CHECK(rows == std::map<std::string, QueuedRow>{
                      {"images/old1.jpg", {"alpha", 1711962000250000, 0, std::nullopt}},
                      {"images/old2.png", {"", 1712048400000000, 2, "timeout"}},
                      {"images/old3.jpg", {"bob", 1712307600000000, 7, "403 Forbidden"}}});

    // New uploads get ids above every id the original gave, deleted ones included.
    auto fresh = catalog::insert_image(
        connection,
        {"n.jpg", "images/n.jpg", "n.jpg", "alpha", std::nullopt, std::nullopt, 1, "image/jpeg"},
        now_micros());
    REQUIRE(fresh);
    CHECK(fresh->id == 13);
}

TEST_CASE("django import: importing again adds only what changed in the original since",
          "[postgresql]") {
    testing::TempDir dir;
    Original original(dir);
    fill(original);
    const Gallery gallery{dir};
    gallery.import(original.source());

    const json again = gallery.import(original.source());
    CHECK(again["images"]["imported"] == 0);
    CHECK(again["images"]["unchanged"] == 6);
    CHECK(again["pending_deletions"]["queued"] == 0);
    CHECK(again["pending_deletions"]["already_queued"] == 4);

    // The original keeps running: a new image, an edit, a delete (its file queued there).
    original.add_image(14, "g14.png", "images/g14.png", "bob", "new", std::nullopt, 140,
                       "2024-06-01 00:00:00");
    original.run("UPDATE assets_image SET name = 'renamed', description = 'edited' WHERE id = 1");
    original.run("DELETE FROM assets_image WHERE id = 9");
    original.add_pending(5, "images/f9.bmp", "bob", "2024-06-02 00:00:00", 0, std::nullopt);
    // ... while gallery deleted one of the imported images already.
    {
        auto connection = gallery.open();
        const std::vector<catalog::ImageId> ids{6};
        REQUIRE(catalog::delete_images(connection, ids, now_micros()));
    }

    const json third = gallery.import(original.source());
    CHECK(third["written"] == true);
    CHECK(third["images"]["imported"] == 1);
    CHECK(third["images"]["updated"] == 1);
    CHECK(third["images"]["removed"] == 1);
    CHECK(third["images"]["deleted_in_gallery"] == 1);
    CHECK(third["images"]["unchanged"] == 3);

    auto connection = gallery.open();
    CHECK(image(connection, 1).name == std::optional<std::string>("renamed"));
    CHECK(image(connection, 1).description == std::optional<std::string>("edited"));
    CHECK(image(connection, 14).storage_key == "images/g14.png");
    auto removed = catalog::get_image(connection, 9);
    REQUIRE(removed);
    CHECK(!removed->has_value());
    auto not_back = catalog::get_image(connection, 6);
    REQUIRE(not_back);
    CHECK(!not_back->has_value());
    const auto rows = queued(connection);
    CHECK(rows.contains("images/f9.bmp"));   // the original's delete, queued once
    CHECK(rows.contains("images/d6.webp"));  // gallery's own delete
    CHECK(count(connection,
                "SELECT COUNT(*) FROM deletion_queue WHERE file_path = 'images/f9.bmp'") == 1);
    auto clients = catalog::list_clients(connection, {});
    REQUIRE(clients);
    std::map<std::string, std::int64_t> counts;
    for (const auto& client : clients->clients) counts[client.client_id] = client.image_count;
    CHECK(counts ==
          std::map<std::string, std::int64_t>{{"alpha", 3}, {"\xC3\x89mile", 1}, {"bob", 1}});
}

TEST_CASE("django import: a conflicting row is reported and nothing of the run is written",
          "[postgresql]") {
    testing::TempDir dir;
    Original original(dir);
    fill(original);
    const Gallery gallery{dir};
    gallery.import(original.source());
    {
        // Gallery and the original both edit image 5 after the first import.
        auto connection = gallery.open();
        catalog::ImageUpdate update;
        update.name = std::optional<std::string>("gallery's name");
        REQUIRE(catalog::update_image(connection, 5, update));
    }
    original.run("UPDATE assets_image SET name = 'original''s name' WHERE id = 5");
    original.add_image(20, "h20.jpg", "images/h20.jpg", "bob", std::nullopt, std::nullopt, 1,
                       "2024-07-01 00:00:00");

    const json dry = gallery.import(original.source(), {"--dry-run"}, 2);
    CHECK(dry["conflict_count"] == 1);
    CHECK(dry["conflicts"][0]["row"] == "image 5");
    const json refused = gallery.import(original.source(), {}, 2);
    CHECK(refused["written"] == false);
    CHECK(refused["conflicts"][0]["reason"].get<std::string>().find("name") != std::string::npos);

    auto connection = gallery.open();
    CHECK(image(connection, 5).name == std::optional<std::string>("gallery's name"));
    auto absent = catalog::get_image(connection, 20);
    REQUIRE(absent);
    CHECK(!absent->has_value());
}

TEST_CASE("django import: rows the API would refuse are conflicts and nothing is written",
          "[postgresql]") {
    testing::TempDir dir;
    Original original(dir);
    fill(original);
    // Client ids gallery's API could never name or print: CR/LF and an escape sequence,
    // a '/', 5,000 bytes; a name with a NUL byte.
    original.add_image(30, "p30.jpg", "images/p30.jpg", "evil\r\n\x1b[2J", std::nullopt,
                       std::nullopt, 1, "2024-07-01 00:00:00");
    original.add_image(31, "p31.jpg", "images/p31.jpg", "shop/1", std::nullopt, std::nullopt, 1,
                       "2024-07-01 00:00:00");
    // (the original's PostgreSQL column holds 100 characters; a SQLite copy holds any)
    const bool long_id_possible = !testing::on_postgresql();
    if (long_id_possible) {
        original.add_image(32, "p32.jpg", "images/p32.jpg", std::string(5000, 'x'), std::nullopt,
                           std::nullopt, 1, "2024-07-01 00:00:00");
    }
    original.add_image(33, "p33.jpg", "images/p33.jpg", " padded ", std::nullopt, std::nullopt, 1,
                       "2024-07-01 00:00:00");
    const Gallery gallery{dir};
    REQUIRE(gallery.run({"migrate"}).exit_code == 0);
    const auto result = gallery.run({"migrate", "--from-django", original.source()});
    INFO(result.out << result.err);
    CHECK(result.exit_code == 2);
    CHECK(result.out.find("image 30: its client_id must not contain control characters.") !=
          std::string::npos);
    CHECK(result.out.find("image 31: its client_id must not contain '/'.") != std::string::npos);
    CHECK((result.out.find("image 32: its client_id must be at most 255 bytes long.") !=
           std::string::npos) == long_id_possible);
    CHECK(result.out.find("image 33: its client_id begins or ends with spaces") !=
          std::string::npos);
    // Nothing of the source reached the terminal raw.
    CHECK(result.out.find('\x1b') == std::string::npos);
    auto connection = gallery.open();
    CHECK(count(connection, "SELECT COUNT(*) FROM images") == 0);
    CHECK(count(connection, "SELECT COUNT(*) FROM deletion_queue") == 0);
}

TEST_CASE("django import: an id gallery already gave to its own upload is a conflict",
          "[postgresql]") {
    testing::TempDir dir;
    Original original(dir);
    fill(original);
    const Gallery gallery{dir};
    REQUIRE(gallery.run({"migrate"}).exit_code == 0);
    {
        auto connection = gallery.open();
        REQUIRE(catalog::insert_image(connection,
                                      {"own.jpg", "images/own.jpg", "own.jpg", "me", std::nullopt,
                                       std::nullopt, 5, "image/jpeg"},
                                      1));
    }
    const auto result = gallery.run({"migrate", "--from-django", original.source()});
    CHECK(result.exit_code == 2);
    CHECK(result.out.find("image 1: gallery has an image with this id and other content") !=
          std::string::npos);
    CHECK(result.err.find("nothing was imported") != std::string::npos);
    auto connection = gallery.open();
    CHECK(count(connection, "SELECT COUNT(*) FROM images") == 1);
    CHECK(count(connection, "SELECT COUNT(*) FROM deletion_queue") == 0);
}

TEST_CASE("django import: a dry run counts everything and writes nothing", "[postgresql]") {
    testing::TempDir dir;
    Original original(dir);
    fill(original);
    const Gallery gallery{dir};
    REQUIRE(gallery.run({"migrate"}).exit_code == 0);
    const json dry = gallery.import(original.source(), {"--dry-run"});
    CHECK(dry["dry_run"] == true);
    CHECK(dry["written"] == false);
    CHECK(dry["images"]["imported"] == 6);
    CHECK(dry["pending_deletions"]["queued"] == 3);
    auto connection = gallery.open();
    CHECK(count(connection, "SELECT COUNT(*) FROM images") == 0);
    CHECK(count(connection, "SELECT COUNT(*) FROM deletion_queue") == 0);
    CHECK(count(connection, "SELECT COUNT(*) FROM original_imports") == 0);

    const auto text = gallery.run({"migrate", "--from-django", original.source(), "--dry-run"});
    CHECK(text.exit_code == 0);
    CHECK(text.out.starts_with("Dry run (nothing written)"));
    CHECK(text.out.find("'ALPHA', 'Alpha', 'alpha'") != std::string::npos);

    // Under public_url the API names variants only `gallery variants --missing` makes
    // for imported images: a written import says so.
    const Gallery public_gallery{dir, dir.database(), "https://cdn.example.com"};
    const auto dry_public =
        public_gallery.run({"migrate", "--from-django", original.source(), "--dry-run"});
    CHECK(dry_public.out.find("variants --missing") == std::string::npos);
    const auto written = public_gallery.run({"migrate", "--from-django", original.source()});
    INFO(written.out << written.err);
    CHECK(written.exit_code == 0);
    CHECK(written.out.find("run `gallery variants --missing`") != std::string::npos);
}

TEST_CASE("django import: the planner's statistics count what the import wrote", "[postgresql]") {
    testing::TempDir dir;
    Original original(dir);
    fill(original);
    const Gallery gallery{dir};
    REQUIRE(gallery.run({"migrate"}).exit_code == 0);
    auto connection = gallery.open();
    if (connection.engine() == db::Engine::postgresql) {
        // Analyzed while empty, as autovacuum leaves a new deployment's tables.
        db::execute_script(connection, "ANALYZE images, client_totals");
        const std::string rows =
            "SELECT CAST(reltuples AS BIGINT) FROM pg_class WHERE oid = CAST('gallery.images' AS "
            "regclass)";
        REQUIRE(count(connection, rows) == 0);
        CHECK(gallery.import(original.source())["written"] == true);
        CHECK(count(connection, rows) == 6);
        CHECK(count(connection,
                    "SELECT CAST(reltuples AS BIGINT) FROM pg_class WHERE oid ="
                    " CAST('gallery.client_totals' AS regclass)") ==
              count(connection, "SELECT COUNT(*) FROM client_totals"));
    } else {
        // SQLite's plans are written for no statistics: the import gathers none.
        CHECK(gallery.import(original.source())["written"] == true);
        CHECK(count(connection, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'") ==
              0);
    }
}

TEST_CASE(
    "django import: an original before 0004 is refused naming its migration, before 0009 has no "
    "queue",
    "[postgresql]") {
    testing::TempDir dir;
    Original original(dir);
    fill(original);
    const Gallery gallery{dir};

    original.run("DROP TABLE assets_pendingfiledeletion");
    original.run("DELETE FROM django_migrations WHERE name = '0009_pendingfiledeletion'");
    const json at_0008 = gallery.import(original.source());
    CHECK(at_0008["pending_deletions_table"] == false);
    CHECK(at_0008["images"]["imported"] == 6);
    const auto text = gallery.run({"migrate", "--from-django", original.source()});
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("before migration 0009, so it has no pending deletions") !=
          std::string::npos);

    testing::TempDir old_dir;
    Original old(old_dir);
    old.run(
        "CREATE TABLE django_migrations (id integer PRIMARY KEY, app varchar(255) NOT NULL,"
        " name varchar(255) NOT NULL, applied varchar(40) NOT NULL)");
    old.run(
        "INSERT INTO django_migrations (id, app, name, applied) VALUES"
        " (1, 'assets', '0001_initial', '2023-01-01 00:00:00')");
    old.run(
        "CREATE TABLE assets_image (id integer PRIMARY KEY, filename varchar(255) NOT NULL,"
        " url varchar(500) NOT NULL, original_filename varchar(255) NOT NULL,"
        " size integer NOT NULL, uploaded_at varchar(40) NOT NULL)");
    const Gallery fresh{old_dir};
    const auto refused = fresh.run({"migrate", "--from-django", old.source()});
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("assets.0001_initial") != std::string::npos);
    CHECK(refused.err.find("0004") != std::string::npos);
}

TEST_CASE(
    "django import: a source that is not the original's, or cannot be reached, changes nothing") {
    testing::TempDir dir;
    const Gallery gallery{dir};
    REQUIRE(gallery.run({"migrate"}).exit_code == 0);

    const auto gallery_itself = gallery.run({"migrate", "--from-django", dir.db_path().string()});
    CHECK(gallery_itself.exit_code == 2);
    CHECK(gallery_itself.err.find("is not a database of the original") != std::string::npos);

    const auto text_file = dir.path() / "notes.txt";
    std::ofstream(text_file) << "this is not a database\n";
    const auto not_sqlite = gallery.run({"migrate", "--from-django", text_file.string()});
    CHECK(not_sqlite.exit_code == 2);
    CHECK(not_sqlite.err.find("cannot read the original's database") != std::string::npos);

    const auto missing = gallery.run({"migrate", "--from-django", (dir.path() / "nope").string()});
    CHECK(missing.exit_code == 2);
    CHECK(missing.err.find("no such file") != std::string::npos);

    const auto scheme = gallery.run({"migrate", "--from-django", "mysql://u:secret@h/db"});
    CHECK(scheme.exit_code == 2);
    CHECK(scheme.err.find("secret") == std::string::npos);

    const auto unreachable = gallery.run(
        {"migrate", "--from-django", "postgresql://django:hunter2@127.0.0.1:1/original"});
    INFO(unreachable.err);
    CHECK(unreachable.exit_code == 1);
    CHECK(unreachable.err.find("cannot connect") != std::string::npos);
    CHECK(unreachable.err.find("hunter2") == std::string::npos);

    const auto no_env = gallery.run({"migrate", "--from-django", "env"});
    CHECK(no_env.exit_code == 2);
    CHECK(no_env.err.find("POSTGRES_DB") != std::string::npos);

    auto connection = gallery.open();
    CHECK(count(connection, "SELECT COUNT(*) FROM images") == 0);
}

TEST_CASE(
    "django import: after the import, cleanup deletes the original's queued files and storage is "
    "verified",
    "[postgresql]") {
    testing::TempDir dir;
    Original original(dir);
    fill(original);
    const Gallery gallery{dir};
    for (const char* key :
         {"images/a1.jpg", "images/b2_AbC1234.png", "images/c5.gif", "images/d6.webp",
          "images/e7.jpeg", "images/old1.jpg", "images/old2.png", "images/old3.jpg"}) {
        testing::write_file(dir.media_root(), key);
    }
    testing::write_file(dir.media_root(), "other/unrelated.txt");

    const json verified = gallery.import(original.source(), {"--verify-storage"}, 3);
    CHECK(verified["written"] == true);
    CHECK(verified["storage"]["checked"] == 6);
    CHECK(verified["storage"]["missing"] == json::array({"images/f9.bmp"}));

    const auto cleanup = gallery.run({"cleanup", "--until-empty"});
    INFO(cleanup.out << cleanup.err);
    CHECK(cleanup.exit_code == 0);
    CHECK(!std::filesystem::exists(dir.media_root() / "images/old1.jpg"));
    CHECK(!std::filesystem::exists(dir.media_root() / "images/old2.png"));
    CHECK(std::filesystem::exists(dir.media_root() / "images/c5.gif"));
    // Past max_attempts in the original: dead, kept for `gallery cleanup --retry-dead`.
    CHECK(std::filesystem::exists(dir.media_root() / "images/old3.jpg"));
    CHECK(gallery.run({"cleanup", "--retry-dead"}).exit_code == 0);
    CHECK(gallery.run({"cleanup", "--until-empty"}).exit_code == 0);
    CHECK(!std::filesystem::exists(dir.media_root() / "images/old3.jpg"));
    CHECK(std::filesystem::exists(dir.media_root() / "images/a1.jpg"));
}

// Production's case: the original on PostgreSQL, gallery on its embedded default.
TEST_CASE("django import: an original on PostgreSQL comes over into a SQLite gallery",
          "[postgresql][postgresql-only]") {
    testing::TempDir dir;
    Original original(dir);
    REQUIRE(original.postgresql());
    fill(original);
    const Gallery gallery{dir, dir.db_path().string()};
    // Wrong credentials: a role the server does not know.
    std::string stranger = original.source();
    stranger.replace(stranger.find("user=gallery"), 12, "user=stranger");
    const auto refused = gallery.run({"migrate", "--from-django", stranger});
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("cannot connect") != std::string::npos);
    CHECK(refused.err.find("stranger") != std::string::npos);
    const json report = gallery.import(original.source());
    CHECK(report["images"]["imported"] == 6);
    CHECK(report["pending_deletions"]["queued"] == 3);
    auto connection = gallery.open();
    REQUIRE(connection.engine() == db::Engine::sqlite);
    CHECK(to_iso8601(image(connection, 2).uploaded_at) == "2024-05-02T00:00:00.000001+00:00");
    CHECK(image(connection, 5).name == std::optional<std::string>("\xC3\x89t\xC3\xA9"));
    CHECK(gallery.import(original.source())["images"]["unchanged"] == 6);
    auto fresh = catalog::insert_image(
        connection,
        {"n.jpg", "images/n.jpg", "n.jpg", "alpha", std::nullopt, std::nullopt, 1, "image/jpeg"},
        now_micros());
    REQUIRE(fresh);
    CHECK(fresh->id == 13);
}

TEST_CASE(
    "django import: an import killed half-way leaves nothing written, and the next run completes") {
    testing::TempDir dir;
    Original original(dir);
    original.create_schema();
    constexpr int k_images = 150'000;
    original.run("WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < " +
                 std::to_string(k_images) +
                 ") INSERT INTO assets_image (id, filename, image, original_filename, client_id,"
                 " name, description, size, uploaded_at) SELECT x, 'f' || x || '.jpg',"
                 " 'images/f' || x || '.jpg', 'p.jpg', 'client' || (x % 100), NULL, NULL, x,"
                 " '2024-01-01 00:00:00' FROM g");
    const Gallery gallery{dir};
    REQUIRE(gallery.run({"migrate"}).exit_code == 0);
    const std::filesystem::path wal = dir.db_path().string() + "-wal";
    const auto wal_size = [&] {
        std::error_code error;
        const auto size = std::filesystem::file_size(wal, error);
        return error ? std::uintmax_t{0} : size;
    };
    const std::uintmax_t before = wal_size();
    const pid_t pid =
        testing::start_process({GALLERY_BINARY, "migrate", "--from-django", original.source()},
                               {.environment = {{"GALLERY_DB", gallery.database},
                                                {"GALLERY_MEDIA_ROOT", dir.media_root().string()}}},
                               (dir.path() / "import.out").string());
    // Killed once its transaction has written pages, before it can commit.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (wal_size() < before + 2 * 1024 * 1024 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ::kill(pid, SIGKILL);
    REQUIRE(testing::wait_process(pid) == 128 + SIGKILL);
    {
        auto connection = gallery.open();
        CHECK(count(connection, "SELECT COUNT(*) FROM images") == 0);
        CHECK(count(connection, "SELECT COUNT(*) FROM original_imports") == 0);
        CHECK(count(connection, "SELECT COUNT(*) FROM client_totals") == 0);
    }
    const json report = gallery.import(original.source());
    CHECK(report["images"]["imported"] == k_images);
    auto connection = gallery.open();
    CHECK(count(connection, "SELECT COUNT(*) FROM images") == k_images);
    CHECK(count(connection, "SELECT SUM(image_count) FROM client_totals") == k_images);
}
