// Finding every file no image references without ever touching one being uploaded:
// the orphan sweep, upload intents, deletion receipts, cleanup --verify, stats --check.

#include "gallery/db/statement.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "gallery/catalog/catalog.hpp"
#include "gallery/cleanup/cleaner.hpp"
#include "gallery/cleanup/orphan_sweep.hpp"
#include "gallery/db/transaction.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/queue/reconcile.hpp"
#include "gallery/storage/local_storage.hpp"
#include "support/faulty_storage.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/s3rver.hpp"

using namespace gallery;
using nlohmann::json;

namespace {

constexpr UnixMicros k_hour = 3600 * k_micros_per_second;

void add_image(db::Connection& connection, const std::string& key) {
    testing::add_image(connection, key, "c", 1, now_micros());
}

// An upload's intent for `key`, recorded at `now` by client "c".
bool record_intent(db::Connection& connection, const std::string& key, UnixMicros now,
                   UnixMicros expires_at) {
    return queue::record_intents(connection, std::span(&key, 1), "c", now, expires_at).has_value();
}

void queue_key(db::Connection& connection, const std::string& key) {
    db::WriteTransaction tx(connection);
    REQUIRE(queue::enqueue(connection, {key, "c", 1}, now_micros()));
    tx.commit();
}

// A storage holding one object of every kind the sweep must tell apart.
void seed(db::Connection& connection, storage::Storage& store) {
    for (const char* key : {"images/live.jpg", "images/queued.jpg", "images/flying.jpg",
                            "images/orphan1.jpg", "images/sub/orphan2.jpg", "other/outside.jpg",
                            // made at upload (public_url), under its image's intent
                            "variants/thumb/images/flying.jpg.jpg"}) {
        REQUIRE(store.put(key, "0123456789", "image/jpeg"));
    }
    add_image(connection, "images/live.jpg");
    queue_key(connection, "images/queued.jpg");
    REQUIRE(record_intent(connection, "images/flying.jpg", now_micros(), now_micros() + k_hour));
}

std::set<std::string> queued_keys(db::Connection& connection) {
    std::set<std::string> keys;
    db::Statement query(connection, "SELECT file_path FROM deletion_queue");
    while (query.step()) keys.insert(query.text(0));
    return keys;
}

void check_sweep(db::Connection& connection, storage::Storage& store) {
    seed(connection, store);
    cleanup::SweepOptions options;
    options.older_than = std::chrono::seconds{0};
    options.page_size = 2;  // several pages
    options.dry_run = true;
    std::vector<std::string> listed;
    auto dry =
        cleanup::sweep_orphans(connection, store, options, system_clock(),
                               [&](const storage::ObjectInfo& o) { listed.push_back(o.key); });
    REQUIRE_FALSE(dry.stopped_by);
    CHECK(dry.scanned == 6);
    CHECK(dry.orphans == 2);
    CHECK(dry.orphan_bytes == 20);
    CHECK(dry.referenced == 1);
    CHECK(dry.in_flight == 2);
    CHECK(dry.already_queued == 1);
    CHECK(listed == std::vector<std::string>{"images/orphan1.jpg", "images/sub/orphan2.jpg"});
    CHECK(queued_keys(connection) == std::set<std::string>{"images/queued.jpg"});

    options.dry_run = false;
    auto real = cleanup::sweep_orphans(connection, store, options, system_clock());
    CHECK(real.queued == 2);
    CHECK(queued_keys(connection) == std::set<std::string>{"images/queued.jpg",
                                                           "images/orphan1.jpg",
                                                           "images/sub/orphan2.jpg"});
    // Objects newer than --older-than are left alone.
    REQUIRE(store.put("images/fresh.jpg", "x", "image/jpeg"));
    options.older_than = std::chrono::seconds{3600};
    const auto young = cleanup::sweep_orphans(connection, store, options, system_clock());
    CHECK(young.too_young == 1);
    CHECK(young.queued == 0);
}

}  // namespace

TEST_CASE("the orphan sweep queues only unreferenced settled objects on local disk",
          "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    auto store = storage::make_local_storage(dir.media_root());
    check_sweep(connection, *store);
}

TEST_CASE("the orphan sweep queues only unreferenced settled objects on S3", "[postgresql]") {
    testing::S3rver server;
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    auto store = storage::make_s3_storage(server.options());
    check_sweep(connection, *store);
}

TEST_CASE("enqueue --orphans through the binary: dry run then queue then resume after a key",
          "[postgresql]") {
    testing::TempDir dir;
    const std::map<std::string, std::string> env{{"GALLERY_DB", dir.database()},
                                                 {"GALLERY_MEDIA_ROOT", dir.media_root().string()}};
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    {
        db::Connection connection(dir.database_options());
        auto store = storage::make_local_storage(dir.media_root());
        seed(connection, *store);
    }
    const auto run = [&](std::vector<std::string> args) {
        args.insert(args.begin(), GALLERY_BINARY);
        return testing::run_process(args, {.environment = env});
    };
    auto dry = run({"enqueue", "--orphans", "--older-than", "0s", "--dry-run"});
    CHECK(dry.exit_code == 0);
    CHECK(dry.out.find("orphan images/orphan1.jpg (10 bytes)") != std::string::npos);
    CHECK(dry.out.find("2 orphans (20 B), nothing queued (dry run)") != std::string::npos);
    const json resumed = json::parse(run({"enqueue", "--orphans", "--older-than", "0s", "--json",
                                          "--start-after", "images/orphan1.jpg"})
                                         .out);
    CHECK(resumed["queued"] == 1);  // only images/sub/orphan2.jpg sorts after the resume key
    // The last key scanned: the walk goes on through variants/.
    CHECK(resumed["last_key"] == "variants/thumb/images/flying.jpg.jpg");
    CHECK(run({"enqueue", "--orphans", "--older-than", "soon"}).exit_code == 2);
    CHECK(run({"enqueue", "--orphans", "images/x.jpg"}).exit_code == 2);
}

TEST_CASE("a crashed upload is cleaned through its expired intent and a live one never is",
          "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    auto store = storage::make_local_storage(dir.media_root());
    const UnixMicros now = now_micros();
    // Killed between writing the object and its row: an intent that has expired.
    REQUIRE(record_intent(connection, "images/crashed.jpg", now - 2 * k_hour, now - k_hour));
    REQUIRE(store->put("images/crashed.jpg", "x", "image/jpeg"));
    // Still uploading: the object is there, the row is not yet.
    REQUIRE(record_intent(connection, "images/uploading.jpg", now, now + k_hour));
    REQUIRE(store->put("images/uploading.jpg", "x", "image/jpeg"));
    // Finished: the row's commit cleared the intent.
    REQUIRE(record_intent(connection, "images/done.jpg", now - 2 * k_hour, now - k_hour));
    REQUIRE(store->put("images/done.jpg", "x", "image/jpeg"));
    add_image(connection, "images/done.jpg");

    cleanup::Options options;
    const auto report = cleanup::Cleaner(connection, *store, options, system_clock(), "w").run();
    CHECK(report.intents_queued == 1);
    CHECK(report.deleted == 1);
    CHECK_FALSE(store->head("images/crashed.jpg")->has_value());
    CHECK(store->head("images/uploading.jpg")->has_value());
    CHECK(store->head("images/done.jpg")->has_value());
}

TEST_CASE("deletion receipts are written with each delete and pruned after their retention",
          "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    auto store = storage::make_local_storage(dir.media_root());
    for (int i = 0; i < 3; ++i) {
        const std::string key = "images/r" + std::to_string(i) + ".jpg";
        REQUIRE(store->put(key, "12345", "image/jpeg"));
        db::WriteTransaction tx(connection);
        REQUIRE(queue::enqueue(connection, {key, "shop", 5}, now_micros()));
        tx.commit();
    }
    UnixMicros now = now_micros();
    cleanup::Options options;
    options.receipt_retention = std::chrono::seconds{24 * 3600};
    CHECK(cleanup::Cleaner(
              connection, *store, options, [&] { return now; }, "w")
              .run()
              .deleted == 3);
    auto receipts = queue::receipts_for(connection, "images/r1.jpg").value();
    REQUIRE(receipts.size() == 1);
    CHECK(receipts[0].client_id == "shop");
    CHECK(receipts[0].size_bytes == 5);
    auto per_day = queue::reclaimed_per_day(connection, now - k_hour).value();
    REQUIRE(per_day.size() == 1);
    CHECK(per_day[0].objects == 3);
    CHECK(per_day[0].bytes == 15);
    // Two days later, a run prunes them (bounded by prune_limit).
    now += 48 * k_hour;
    options.prune_limit = 2;
    CHECK(cleanup::Cleaner(
              connection, *store, options, [&] { return now; }, "w")
              .run()
              .receipts_pruned == 2);
    CHECK(cleanup::Cleaner(
              connection, *store, options, [&] { return now; }, "w")
              .run()
              .receipts_pruned == 1);
    CHECK(queue::receipts_for(connection, "images/r1.jpg").value().empty());
}

TEST_CASE("cleanup --verify keeps a row whose object is still there after the delete",
          "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    auto local = storage::make_local_storage(dir.media_root());
    REQUIRE(local->put("images/stubborn.jpg", "x", "image/jpeg"));
    queue_key(connection, "images/stubborn.jpg");
    testing::FaultyStorage lying(*local);
    lying.pretend_deletes = true;
    cleanup::Options options;
    options.verify = true;
    const auto report = cleanup::Cleaner(connection, lying, options, system_clock(), "w").run();
    CHECK(report.deleted == 0);
    CHECK(report.failed == 1);
    CHECK(queue::pending_count(connection).value() == 1);
    options.verify = false;
    CHECK(cleanup::Cleaner(
              connection, lying, options, [] { return now_micros() + 10 * k_hour; }, "w")
              .run()
              .deleted == 1);
}

TEST_CASE("stats --check lists image rows whose object is missing and changes nothing",
          "[postgresql]") {
    testing::TempDir dir;
    const std::map<std::string, std::string> env{{"GALLERY_DB", dir.database()},
                                                 {"GALLERY_MEDIA_ROOT", dir.media_root().string()}};
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    {
        db::Connection connection(dir.database_options());
        auto store = storage::make_local_storage(dir.media_root());
        REQUIRE(store->put("images/present.jpg", "x", "image/jpeg"));
        REQUIRE(store->put("variants/thumb/images/present.jpg.jpg", "x", "image/jpeg"));
        add_image(connection, "images/present.jpg");
        add_image(connection, "images/gone.jpg");
    }
    auto result =
        testing::run_process({GALLERY_BINARY, "stats", "--check", "--json"}, {.environment = env});
    CHECK(result.exit_code == 0);
    const json report = json::parse(result.out);
    CHECK(report["checked"] == 2);
    CHECK(report["missing"] == json::array({"images/gone.jpg"}));
    CHECK(report["variants_not_made"] == 1);  // the default thumbnail of images/gone.jpg
}
