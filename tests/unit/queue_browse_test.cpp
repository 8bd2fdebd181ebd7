// The admin pages' queue operations: keyset pages, filters, retry and removal of
// selected rows, and the cleanup run log.

#include "gallery/db/statement.hpp"

#include <catch2/catch.hpp>
#include <set>

#include "gallery/cleanup/run_log.hpp"
#include "gallery/db/transaction.hpp"
#include "gallery/queue/browse.hpp"
#include "support/fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;

namespace {

// Keys images/k0... queued at time 1, alternately for the clients "even" and "odd".
void enqueue_keys(db::Connection& connection, int count) {
    testing::enqueue_keys(connection, count, 1, "images/k",
                          [](int i) { return std::string(i % 2 ? "odd" : "even"); });
}

void set_row(db::Connection& connection, queue::ItemId id, const std::string& assignments) {
    db::execute_script(connection, "UPDATE deletion_queue SET " + assignments +
                                       " WHERE id = " + std::to_string(id));
}

// Every row the query reaches, following next-page cursors.
std::vector<queue::QueueRow> all_pages(db::Connection& connection, queue::BrowseQuery query) {
    std::vector<queue::QueueRow> rows;
    for (;;) {
        auto page = queue::browse(connection, query, 1000).value();
        REQUIRE(page.rows.size() <= query.page_size);
        rows.insert(rows.end(), page.rows.begin(), page.rows.end());
        REQUIRE(rows.size() <= 1000);  // a cursor that never ends fails instead of hanging
        if (!page.has_more) return rows;
        query.after = std::pair{page.rows.back().sort_value, page.rows.back().id};
    }
}

}  // namespace

TEST_CASE("queue pages follow the sort and visit every row exactly once", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    enqueue_keys(connection, 23);
    // 18 rows have failed (attempts 1 to 3), 5 have not: "most attempts" reads the two
    // groups with two statements, so page sizes put its page breaks on every side of
    // the change, 6 exactly on it. The pending filter walks the order's index for small
    // pages and reads the state's rows for large ones (queue::browse's
    // state_is_common): both give every row.
    for (queue::ItemId id = 1; id <= 23; ++id)
        set_row(connection, id, "attempts = " + std::to_string(id % 4));
    set_row(connection, 23, "state = 'dead'");  // not pending: the filter leaves it out

    for (const std::size_t page_size : {1, 5, 6, 7, 50}) {
        for (const auto& [state, min_attempts] :
             {std::pair{queue::StateFilter::all, 0}, std::pair{queue::StateFilter::all, 1},
              std::pair{queue::StateFilter::all, 3}, std::pair{queue::StateFilter::pending, 0}}) {
            queue::BrowseQuery query;
            query.state = state;
            query.page_size = page_size;
            query.min_attempts = min_attempts;
            std::size_t expected = 0;
            for (queue::ItemId id = 1; id <= 23; ++id) {
                const bool filtered_out = state == queue::StateFilter::pending && id == 23;
                expected += id % 4 >= min_attempts && !filtered_out;
            }
            for (auto sort : {queue::QueueSort::newest, queue::QueueSort::oldest,
                              queue::QueueSort::most_attempts}) {
                INFO("page size " << page_size << ", state " << static_cast<int>(state)
                                  << ", min_attempts " << min_attempts << ", sort "
                                  << static_cast<int>(sort));
                query.sort = sort;
                const auto rows = all_pages(connection, query);
                REQUIRE(rows.size() == expected);
                std::set<queue::ItemId> seen;
                for (const auto& row : rows) seen.insert(row.id);
                CHECK(seen.size() == expected);
                for (std::size_t i = 1; i < rows.size(); ++i) {
                    if (sort == queue::QueueSort::newest) CHECK(rows[i - 1].id > rows[i].id);
                    if (sort == queue::QueueSort::oldest) CHECK(rows[i - 1].id < rows[i].id);
                    if (sort == queue::QueueSort::most_attempts) {
                        CHECK(rows[i - 1].attempts >= rows[i].attempts);
                        if (rows[i - 1].attempts == rows[i].attempts)
                            CHECK(rows[i - 1].id > rows[i].id);
                    }
                }
            }
        }
    }
}

TEST_CASE("queue filters by state and attempts and searches path or client literally",
          "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    enqueue_keys(connection, 10);
    set_row(connection, 1, "state = 'dead', attempts = 3, last_error = 'boom'");
    // Leased as queue::claim leases: next_attempt_at moves to the lease's expiry.
    set_row(connection, 2, "lease_owner = 'w', lease_expires_at = 5000, next_attempt_at = 5000");
    set_row(connection, 3, "attempts = 2");

    queue::BrowseQuery query;
    query.state = queue::StateFilter::dead;
    auto dead = queue::browse(connection, query, 1000).value().rows;
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].id == 1);
    CHECK(dead[0].last_error == "boom");

    query.state = queue::StateFilter::leased;
    auto leased = queue::browse(connection, query, 1000).value().rows;
    REQUIRE(leased.size() == 1);
    CHECK(leased[0].state == "leased");
    // Once its lease has run out the row counts as pending again.
    CHECK(queue::browse(connection, query, 6000).value().rows.empty());

    query.state = queue::StateFilter::pending;
    CHECK(queue::browse(connection, query, 1000).value().rows.size() == 8);

    query.state = queue::StateFilter::all;
    query.min_attempts = 2;
    CHECK(queue::browse(connection, query, 1000).value().rows.size() == 2);

    query.min_attempts = 0;
    query.search = "odd";
    CHECK(queue::browse(connection, query, 1000).value().rows.size() == 5);
    query.search = "k1";  // images/k1
    CHECK(queue::browse(connection, query, 1000).value().rows.size() == 1);
    query.search = "%";  // a literal percent sign: nothing has one
    CHECK(queue::browse(connection, query, 1000).value().rows.empty());
}

TEST_CASE("retrying a dead row whose key is queued restorable drops it", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    enqueue_keys(connection, 2);
    // Row 2 waits out a restore window for images/k1; row 1, dead, had the same key.
    set_row(connection, 2,
            "state = 'restorable', image_id = 7, filename = 'k1.jpg', original_filename = "
            "'k1.jpg', content_type = 'image/jpeg', uploaded_at = 1, size_bytes = 10");
    set_row(connection, 1, "state = 'dead', attempts = 3, file_path = 'images/k1'");

    const std::vector<queue::ItemId> dead{1};
    CHECK(queue::retry_selected(connection, dead, 2000).value() == 0);
    CHECK(db::query_int64(connection, "SELECT COUNT(*) FROM deletion_queue") == 1);
    CHECK(db::query_int64(connection,
                          "SELECT COUNT(*) FROM deletion_queue WHERE state ="
                          " 'restorable'") == 1);
    // The same rule for every dead row at once.
    db::execute_script(connection,
                       "INSERT INTO deletion_queue (file_path, client_id, queued_at,"
                       " next_attempt_at, state, attempts) VALUES ('images/k1', '', 1, 1,"
                       " 'dead', 3)");
    CHECK(queue::retry_dead(connection, 2000).value() == 0);
    CHECK(db::query_int64(connection, "SELECT COUNT(*) FROM deletion_queue") == 1);
}

TEST_CASE("retry and remove act only on the selected rows they may touch", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    enqueue_keys(connection, 4);
    set_row(connection, 1, "state = 'dead', attempts = 3");
    set_row(connection, 2, "state = 'dead', attempts = 3");
    set_row(connection, 3, "lease_owner = 'w', lease_expires_at = 5000, next_attempt_at = 5000");

    const std::vector<queue::ItemId> first_only{1, 4};  // 4 is pending: not retried
    CHECK(queue::retry_selected(connection, first_only, 2000).value() == 1);
    queue::BrowseQuery dead_only;
    dead_only.state = queue::StateFilter::dead;
    auto dead = queue::browse(connection, dead_only, 1000).value().rows;
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].id == 2);

    // A dead row whose key is pending again is dropped, not duplicated.
    {
        db::WriteTransaction tx(connection);
        db::execute_script(connection,
                           "UPDATE deletion_queue SET file_path = 'images/k0' WHERE id = 2");
        tx.commit();
    }
    const std::vector<queue::ItemId> second{2};
    CHECK(queue::retry_selected(connection, second, 2000).value() == 0);
    CHECK(db::query_int64(connection, "SELECT COUNT(*) FROM deletion_queue") == 3);

    // The leased row stays: a worker is deleting its object right now.
    const std::vector<queue::ItemId> leased_and_free{3, 4};
    CHECK(queue::remove_selected(connection, leased_and_free, 2000).value() == 1);
    CHECK(queue::remove_selected(connection, leased_and_free, 6000).value() == 1);
}

TEST_CASE("cleanup runs are recorded newest first with their trigger", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    cleanup::Report report;
    report.processed = 5;
    report.deleted = 4;
    report.failed = 1;
    cleanup::record_run(connection, "cron", 10, 20, report);
    report.stopped_by = Error{ErrorKind::storage_transient, "s3: unreachable"};
    cleanup::record_run(connection, "admin", 30, 40, report);
    auto runs = cleanup::recent_runs(connection, 10).value();
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].trigger == "admin");
    CHECK(runs[0].stopped_by == "s3: unreachable");
    CHECK(runs[1].trigger == "cron");
    CHECK(runs[1].deleted == 4);
    CHECK_FALSE(runs[1].stopped_by);
}
