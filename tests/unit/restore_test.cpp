// The restore window at the catalogue's level (catalog::restore_images and the
// queue's 'restorable' rows), on both engines. The race against a cleaner on the
// real binary is in tests/integration/restore_test.cpp.
#include <catch2/catch.hpp>

#include "gallery/catalog/catalog.hpp"
#include "gallery/db/statement.hpp"
#include "gallery/queue/queue.hpp"
#include "support/fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;

namespace {

constexpr std::chrono::seconds k_window{60};
constexpr UnixMicros k_deleted_at = 1'000 * k_micros_per_second;
constexpr UnixMicros k_window_end = k_deleted_at + 60 * k_micros_per_second;

catalog::Image upload(db::Connection& connection, const std::string& name,
                      const std::string& client, UnixMicros at) {
    auto image =
        catalog::insert_image(connection,
                              {name + ".jpg", "images/" + name + ".jpg", name + " (1).JPG", client,
                               "Name of " + name, std::nullopt, 1000 + name.size(), "image/jpeg"},
                              at);
    REQUIRE(image);
    return *image;
}

std::vector<std::string> rows(db::Connection& connection, const std::string& sql) {
    std::vector<std::string> out;
    db::Statement query(connection, sql);
    while (query.step()) {
        std::string row;
        for (int c = 0; c < query.column_count(); ++c)
            row += (query.is_null(c) ? "NULL" : query.text(c)) + "|";
        out.push_back(row);
    }
    return out;
}

// Every table a restore or a delete changes, as text: equal before and after means
// nothing changed.
std::vector<std::string> snapshot(db::Connection& connection) {
    auto all = rows(connection, "SELECT * FROM images ORDER BY id");
    for (auto& row : rows(connection, "SELECT * FROM deletion_queue ORDER BY id"))
        all.push_back(row);
    for (auto& row : rows(connection, "SELECT * FROM client_totals ORDER BY client_id"))
        all.push_back(row);
    return all;
}

void check_totals_equal_recount(db::Connection& connection) {
    CHECK(rows(connection,
               "SELECT UPPER(client_id), image_count, total_size, latest_upload, oldest_upload"
               " FROM client_totals ORDER BY UPPER(client_id)") ==
          rows(connection,
               "SELECT UPPER(MIN(client_id)), COUNT(*), SUM(size), MAX(uploaded_at),"
               " MIN(uploaded_at) FROM images GROUP BY UPPER(client_id)"
               " ORDER BY UPPER(MIN(client_id))"));
}

}  // namespace

TEST_CASE("a restore brings back the deleted images with every field and their totals",
          "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    const auto a = upload(connection, "a", "Shop", 10);
    const auto b = upload(connection, "b", "shop", 20);
    const auto c = upload(connection, "c", "other", 30);
    upload(connection, "d", "shop", 40);
    const auto before = snapshot(connection);

    const std::vector<catalog::ImageId> ids{a.id, b.id, c.id};
    REQUIRE(catalog::delete_images(connection, ids, k_deleted_at, k_window));
    auto stats = queue::stats(connection, k_deleted_at).value();
    CHECK(stats.restorable == 3);
    CHECK(stats.pending == 0);
    CHECK(stats.due == 0);
    CHECK(stats.bytes_restorable == a.size + b.size + c.size);
    CHECK(stats.bytes_pending == stats.bytes_restorable);
    CHECK(stats.first_window_end == k_window_end);
    CHECK(queue::pending_count(connection).value() == 3);
    // Nothing is claimed within the window.
    CHECK(queue::claim(connection, "w", 10, k_window_end - 1, k_window_end + 100)->empty());

    const std::vector<catalog::ImageId> asked{b.id, 4242, a.id, b.id, c.id};
    auto outcome = catalog::restore_images(connection, asked);
    REQUIRE(outcome);
    CHECK(outcome->restored_ids == std::vector<catalog::ImageId>{b.id, a.id, c.id});
    CHECK(snapshot(connection) == before);
    check_totals_equal_recount(connection);
    CHECK(queue::stats(connection, k_deleted_at)->restorable == 0);

    // Restored once: a second restore finds nothing.
    CHECK(catalog::restore_images(connection, asked)->restored_ids.empty());
    CHECK(snapshot(connection) == before);
}

TEST_CASE("a restore by client takes every restorable image of that client, in any case",
          "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    const auto a = upload(connection, "a", "Shop", 10);
    const auto b = upload(connection, "b", "shop", 20);
    const auto c = upload(connection, "c", "other", 30);
    REQUIRE(catalog::delete_client_images(connection, "SHOP", k_deleted_at, k_window));
    const std::vector<catalog::ImageId> other{c.id};
    REQUIRE(catalog::delete_images(connection, other, k_deleted_at, k_window));

    auto outcome = catalog::restore_client_images(connection, "sHoP");
    REQUIRE(outcome);
    CHECK(outcome->restored_ids == std::vector<catalog::ImageId>{a.id, b.id});
    CHECK(catalog::get_image(connection, a.id)->value().client_id == "Shop");
    CHECK(catalog::get_image(connection, b.id)->value().client_id == "shop");
    CHECK(!catalog::get_image(connection, c.id)->has_value());
    CHECK(queue::stats(connection, k_deleted_at)->restorable == 1);
    check_totals_equal_recount(connection);
}

TEST_CASE("an image whose window has ended and whose row a cleaner claimed is not restorable",
          "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    const auto a = upload(connection, "a", "shop", 10);
    const auto b = upload(connection, "b", "shop", 20);
    const std::vector<catalog::ImageId> ids{a.id, b.id};
    REQUIRE(catalog::delete_images(connection, ids, k_deleted_at, k_window));

    // Past the window both are due; one claim of one row closes one window only.
    auto stats = queue::stats(connection, k_window_end).value();
    CHECK(stats.due == 2);
    CHECK(stats.restorable == 2);
    auto claimed = queue::claim(connection, "w", 1, k_window_end, k_window_end + 100);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 1);
    CHECK(claimed->front().key == "images/a.jpg");
    stats = queue::stats(connection, k_window_end).value();
    CHECK(stats.restorable == 1);
    CHECK(stats.pending == 1);

    const auto before = snapshot(connection);
    auto outcome = catalog::restore_images(connection, ids);
    REQUIRE(outcome);
    CHECK(outcome->restored_ids == std::vector<catalog::ImageId>{b.id});
    CHECK(!catalog::get_image(connection, a.id)->has_value());
    // The claimed row lost its copy of the image and is only a key to delete now.
    CHECK(rows(connection, "SELECT state, image_id, filename FROM deletion_queue") ==
          std::vector<std::string>{"pending|NULL|NULL|"});
    CHECK(snapshot(connection) != before);
    check_totals_equal_recount(connection);
}

TEST_CASE("without a restore window a delete keeps nothing to restore", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    const auto a = upload(connection, "a", "shop", 10);
    const std::vector<catalog::ImageId> ids{a.id};
    REQUIRE(catalog::delete_images(connection, ids, k_deleted_at));
    CHECK(rows(connection, "SELECT state, image_id, next_attempt_at FROM deletion_queue") ==
          std::vector<std::string>{"pending|NULL|" + std::to_string(k_deleted_at) + "|"});
    const auto before = snapshot(connection);
    CHECK(catalog::restore_images(connection, ids)->restored_ids.empty());
    CHECK(catalog::restore_client_images(connection, "shop")->restored_ids.empty());
    CHECK(snapshot(connection) == before);
}

TEST_CASE("a restorable key is queued once: an orphan sweep's enqueue does not queue it again",
          "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    const auto a = upload(connection, "a", "shop", 10);
    const std::vector<catalog::ImageId> ids{a.id};
    REQUIRE(catalog::delete_images(connection, ids, k_deleted_at, k_window));
    CHECK(!queue::enqueue(connection, {"images/a.jpg", "sweep", 5}, k_deleted_at).value());
    CHECK(db::query_int64(connection, "SELECT COUNT(*) FROM deletion_queue") == 1);
    REQUIRE(catalog::restore_images(connection, ids)->restored_ids.size() == 1);
}
