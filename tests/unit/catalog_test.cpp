#include "gallery/db/statement.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <tuple>

#include "gallery/catalog/catalog.hpp"
#include "gallery/common/text.hpp"
#include "gallery/queue/queue.hpp"
#include "support/fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;

namespace {

// The image images/<name>.jpg.
catalog::Image add_image(db::Connection& connection, const std::string& name,
                         const std::string& client, std::uint64_t size = 100) {
    return testing::add_image(connection, "images/" + name + ".jpg", client, size);
}

std::int64_t count(db::Connection& connection, const std::string& table) {
    return db::query_int64(connection, "SELECT COUNT(*) FROM " + table);
}

}  // namespace

TEST_CASE("deleting images queues their objects in the same transaction", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    const auto a = add_image(connection, "a", "C1", 111);
    const auto b = add_image(connection, "b", "C1", 222);
    add_image(connection, "c", "C2");
    const std::vector<catalog::ImageId> ids{a.id, b.id, 999};
    auto outcome = catalog::delete_images(connection, ids, 50).value();
    CHECK(outcome.deleted_ids.size() == 2);
    CHECK(outcome.files_queued == 2);
    CHECK(count(connection, "images") == 1);
    auto stats = queue::stats(connection, 60).value();
    CHECK(stats.pending == 2);
    CHECK(stats.bytes_pending == 333);
}

TEST_CASE("when queueing fails the image rows are not deleted either", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    const auto a = add_image(connection, "a", "C1");
    // Make the queue insert fail inside the transaction, as a full disk would.
    testing::refuse_inserts(connection, "deletion_queue");
    const std::vector<catalog::ImageId> ids{a.id};
    auto outcome = catalog::delete_images(connection, ids, 50);
    REQUIRE_FALSE(outcome);
    CHECK(outcome.error().kind == ErrorKind::database);
    CHECK(count(connection, "images") == 1);
    CHECK(count(connection, "deletion_queue") == 0);

    auto by_client = catalog::delete_client_images(connection, "c1", 50);
    REQUIRE_FALSE(by_client);
    CHECK(count(connection, "images") == 1);
}

TEST_CASE("deleting a client's images matches the client id case-insensitively", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    add_image(connection, "a", "Shop-1");
    add_image(connection, "b", "SHOP-1");
    add_image(connection, "c", "shop-2");
    auto outcome = catalog::delete_client_images(connection, "shop-1", 50).value();
    CHECK(outcome.deleted_count == 2);
    CHECK(outcome.files_queued == 2);
    CHECK(count(connection, "images") == 1);
    CHECK(catalog::delete_client_images(connection, "nobody", 50).value().deleted_count == 0);
}

TEST_CASE(
    "a bulk delete of a million ids deletes and queues what exists, past SQLite's variable limit",
    "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    const auto a = add_image(connection, "a", "C1");
    const auto b = add_image(connection, "b", "C1");
    // 1,000,001 ids: thirty times SQLite's 32,766 bound parameters.
    std::vector<catalog::ImageId> ids(1'000'000);
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<catalog::ImageId>(i + 1000);
    ids.push_back(a.id);
    auto outcome = catalog::delete_images(connection, ids, 50).value();
    CHECK(outcome.deleted_ids == std::vector<catalog::ImageId>{a.id});
    CHECK(outcome.deleted_count == 1);
    CHECK(outcome.files_queued == 1);
    CHECK(db::query_int64(connection, "SELECT COUNT(*) FROM deletion_queue") == 1);
    CHECK(db::query_text(connection, "SELECT file_path FROM deletion_queue") == a.storage_key);
    CHECK(db::query_int64(connection, "SELECT COUNT(*) FROM images") == 1);
    CHECK(db::query_text(connection, "SELECT storage_key FROM images") == b.storage_key);
    CHECK(db::query_int64(connection, "SELECT image_count FROM client_totals") == 1);
}

TEST_CASE("image stats group clients case-insensitively with the largest first", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    add_image(connection, "a", "A", 10);
    add_image(connection, "b", "b", 20);
    add_image(connection, "c", "B", 30);
    auto stats = catalog::stats(connection, std::nullopt).value();
    CHECK(stats.total_images == 3);
    CHECK(stats.total_size == 60);
    CHECK(stats.unique_clients == 2);
    REQUIRE(stats.by_client.size() == 2);
    CHECK(stats.by_client[0].count == 2);
    CHECK(stats.by_client[0].total_size == 50);
    CHECK(catalog::stats(connection, 1).value().by_client.size() == 1);
}

TEST_CASE("client totals stay equal to a recount after inserts updates and deletes",
          "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    std::mt19937 random{7};
    std::vector<catalog::ImageId> ids;
    const std::vector<std::string> clients{"Alpha", "ALPHA", "beta", "Gamma"};
    for (int i = 0; i < 300; ++i) {
        const auto& client = clients[random() % clients.size()];
        catalog::NewImage image{"f" + std::to_string(i) + ".jpg",
                                "images/f" + std::to_string(i) + ".jpg",
                                "o.jpg",
                                client,
                                std::nullopt,
                                std::nullopt,
                                random() % 5000,
                                "image/jpeg"};
        ids.push_back(
            catalog::insert_image(connection, image, static_cast<UnixMicros>(random() % 100000))
                .value()
                .id);
        if (i % 7 == 0) {
            catalog::ImageUpdate move;
            move.client_id = clients[random() % clients.size()];
            REQUIRE(catalog::update_image(connection, ids[random() % ids.size()], move));
        }
        if (i % 11 == 0) {
            const std::vector<catalog::ImageId> some{ids[random() % ids.size()],
                                                     ids[random() % ids.size()]};
            REQUIRE(catalog::delete_images(connection, some, 1));
        }
        if (i == 150) REQUIRE(catalog::delete_client_images(connection, "gamma", 1));
    }
    const auto rows = [&](const std::string& sql) {
        std::vector<std::string> out;
        db::Statement query(connection, sql);
        while (query.step()) {
            std::string row;
            for (int c = 0; c < query.column_count(); ++c) row += query.text(c) + "|";
            out.push_back(row);
        }
        return out;
    };
    const auto kept = rows(
        "SELECT UPPER(client_id), image_count, total_size, latest_upload, oldest_upload FROM "
        "client_totals"
        " ORDER BY UPPER(client_id)");
    const auto recount = rows(
        "SELECT UPPER(MIN(client_id)), COUNT(*), SUM(size), MAX(uploaded_at), MIN(uploaded_at)"
        " FROM images GROUP BY client_id COLLATE NOCASE ORDER BY UPPER(MIN(client_id))");
    CHECK(kept == recount);
    CHECK(kept.size() >= 2);
}

TEST_CASE(
    "client ids fold ASCII letters only and sorts break ties and place NULLs alike on both "
    "engines",
    "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    // NOCASE folds A-Z only: é/É and ß/SS stay apart, the ASCII letters around them fold.
    const std::vector<std::pair<std::string, std::optional<std::string>>> uploads{
        {"\xC3\xA9mile", "b"},
        {"\xC3\xA9MILE", std::nullopt},
        {"\xC3\x89mile", "B"},
        {"STRASSE",
         "\xC3\x89"
         "clair"},
        {"stra\xC3\x9F"
         "e",
         "b"},
        {"Alpha", std::nullopt},
        {"alpha", "a"}};
    std::vector<catalog::Image> images;
    for (std::size_t i = 0; i < uploads.size(); ++i) {
        auto image = catalog::insert_image(
            connection,
            {"f" + std::to_string(i) + ".jpg", "images/f" + std::to_string(i) + ".jpg", "o.jpg",
             uploads[i].first, uploads[i].second, std::nullopt, i + 1, "image/jpeg"},
            static_cast<UnixMicros>(100 - i % 2));  // ties on uploaded_at
        REQUIRE(image);
        images.push_back(*image);
    }
    const auto listed = [&](catalog::ImageQuery query) {
        query.page.page_size = 100;
        auto page = catalog::list_images(connection, query);
        REQUIRE(page);
        std::vector<catalog::ImageId> ids;
        for (const auto& image : page->images) ids.push_back(image.id);
        return std::pair{page->total_count, ids};
    };
    const auto listed_for_client = [&](std::string client_id) {
        catalog::ImageQuery query;
        query.client_id = std::move(client_id);
        return listed(query);
    };
    const auto listed_for_search = [&](std::string search) {
        catalog::ImageQuery query;
        query.search = std::move(search);
        return listed(query);
    };
    const auto listed_sorted_by = [&](std::string sort_by) {
        catalog::ImageQuery query;
        query.sort_by = std::move(sort_by);
        return listed(query);
    };
    CHECK(listed_for_client("\xC3\x89MILE").first == 1);  // Émile only
    CHECK(listed_for_client("\xC3\xA9mile").first == 2);  // émile, éMILE
    CHECK(listed_for_client("strasse").first == 1);
    CHECK(listed_for_client("ALPHA").first == 2);
    // LIKE ignores ASCII case only: "éclair" does not find "Éclair", "ÉCLAIR" does.
    CHECK(listed_for_search("\xC3\xA9"
                            "clair")
              .first == 0);
    CHECK(listed_for_search("\xC3\x89"
                            "CLAIR")
              .first == 1);

    auto stats = catalog::stats(connection, std::nullopt);
    REQUIRE(stats);
    CHECK(stats->unique_clients == 5);
    std::map<std::string, std::int64_t> counts;
    for (const auto& usage : stats->by_client) counts[to_lower(usage.client_id)] = usage.count;
    CHECK(counts == std::map<std::string, std::int64_t>{{"alpha", 2},
                                                        {"\xC3\xA9mile", 2},
                                                        {"\xC3\x89mile", 1},
                                                        {"strasse", 1},
                                                        {"stra\xC3\x9F"
                                                         "e",
                                                         1}});

    // name: NULLs first ascending, last descending, bytes compared, ties by id.
    std::vector<catalog::Image> by_name = images;
    std::ranges::sort(by_name, [](const auto& a, const auto& b) {
        return std::tuple(a.name.has_value(), a.name.value_or(""), a.id) <
               std::tuple(b.name.has_value(), b.name.value_or(""), b.id);
    });
    std::vector<catalog::ImageId> expected;
    for (const auto& image : by_name) expected.push_back(image.id);
    CHECK(listed_sorted_by("name").second == expected);
    std::ranges::reverse(expected);
    CHECK(listed_sorted_by("-name").second == expected);
    // client_id: folded bytes, then uploaded_at, then id.
    std::vector<catalog::Image> by_client = images;
    std::ranges::sort(by_client, [](const auto& a, const auto& b) {
        return std::tuple(to_lower(a.client_id), a.uploaded_at, a.id) <
               std::tuple(to_lower(b.client_id), b.uploaded_at, b.id);
    });
    expected.clear();
    for (const auto& image : by_client) expected.push_back(image.id);
    CHECK(listed_sorted_by("client_id").second == expected);
}

TEST_CASE("pages of every sort order join up without a gap or a repeat on both engines",
          "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    // Ties everywhere: 3 names (and NULL), 4 sizes, 5 upload times, 2 client spellings.
    for (int i = 0; i < 31; ++i) {
        const std::optional<std::string> name =
            i % 4 == 0 ? std::nullopt : std::optional<std::string>("n" + std::to_string(i % 3));
        REQUIRE(catalog::insert_image(
            connection,
            {"p" + std::to_string(i) + ".jpg", "images/p" + std::to_string(i) + ".jpg", "o.jpg",
             i % 2 ? "Cli" : "cli", name, std::nullopt, static_cast<std::uint64_t>(i % 4),
             "image/jpeg"},
            static_cast<UnixMicros>(i % 5)));
    }
    for (const char* sort_by : {"uploaded_at", "-uploaded_at", "name", "-name", "size", "-size",
                                "client_id", "-client_id"}) {
        CAPTURE(sort_by);
        catalog::ImageQuery whole;
        whole.sort_by = sort_by;
        whole.page.page_size = 100;
        auto all = catalog::list_images(connection, whole);
        REQUIRE(all);
        REQUIRE(all->images.size() == 31);
        std::vector<catalog::ImageId> expected;
        for (const auto& image : all->images) expected.push_back(image.id);
        std::vector<catalog::ImageId> paged;
        for (std::int64_t number = 1; number <= 5; ++number) {
            catalog::ImageQuery query = whole;
            query.page = {number, 7};
            auto page = catalog::list_images(connection, query);
            REQUIRE(page);
            CHECK(page->total_count == 31);
            for (const auto& image : page->images) paged.push_back(image.id);
        }
        CHECK(paged == expected);
        // The whole list is in the order asked for (the page's rows, not only its ids).
        for (std::size_t i = 1; i < all->images.size(); ++i) {
            const catalog::Image& before = all->images[i - 1];
            const catalog::Image& after = all->images[i];
            const std::string_view order = sort_by;
            const bool descending = order.starts_with('-');
            const auto key = [&](const catalog::Image& image) {
                if (order.ends_with("uploaded_at"))
                    return std::tuple(std::string(), image.uploaded_at, image.id);
                if (order.ends_with("name"))
                    return std::tuple(image.name ? "1" + *image.name : std::string("0"),
                                      UnixMicros{0}, image.id);
                if (order.ends_with("size"))
                    return std::tuple(std::string(), static_cast<UnixMicros>(image.size), image.id);
                return std::tuple(to_lower(image.client_id), image.uploaded_at, image.id);
            };
            CHECK((descending ? key(after) < key(before) : key(before) < key(after)));
        }
    }
}
