// queue::stats reads counters that triggers keep (migration 0006). These tests compare
// them with a recount of the rows after every kind of change the queue has.
#include <catch2/catch.hpp>
#include <random>

#include "gallery/catalog/catalog.hpp"
#include "gallery/db/migrator.hpp"
#include "gallery/db/statement.hpp"
#include "gallery/db/transaction.hpp"
#include "gallery/queue/queue.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;

namespace {

// What queue::stats answered before the counters: every figure from the rows themselves.
queue::Stats recount(db::Connection& connection, UnixMicros now) {
    queue::Stats expected;
    db::Statement by_state(connection,
                           "SELECT state, COUNT(*), COALESCE(SUM(size_bytes), 0),"
                           " SUM(CASE WHEN size_bytes IS NULL THEN 1 ELSE 0 END),"
                           " MIN(queued_at), MAX(queued_at) FROM deletion_queue GROUP BY state");
    while (by_state.step()) {
        if (by_state.text(0) == "restorable") {
            expected.restorable = by_state.int64(1);
            expected.bytes_restorable = static_cast<std::uint64_t>(by_state.int64(2));
        } else if (by_state.text(0) == "pending") {
            expected.pending = by_state.int64(1);
            expected.bytes_pending = static_cast<std::uint64_t>(by_state.int64(2));
            expected.pending_unknown_size = by_state.int64(3);
            expected.oldest_queued = by_state.int64(4);
            expected.newest_queued = by_state.int64(5);
        } else {
            expected.dead = by_state.int64(1);
            expected.bytes_dead = static_cast<std::uint64_t>(by_state.int64(2));
        }
    }
    expected.bytes_pending += expected.bytes_restorable;
    // A restorable row past its window is due: the next claim takes it.
    db::Statement due(connection,
                      "SELECT COUNT(*) FROM deletion_queue"
                      " WHERE state IN ('pending', 'restorable') AND next_attempt_at <= ?1");
    due.bind(1, now);
    due.step();
    expected.due = due.int64(0);
    db::Statement leased(connection,
                         "SELECT COUNT(*) FROM deletion_queue WHERE state = 'pending'"
                         " AND next_attempt_at > ?1 AND lease_expires_at > ?1");
    leased.bind(1, now);
    leased.step();
    expected.leased = leased.int64(0);
    db::Statement attempts(connection,
                           "SELECT attempts, COUNT(*) FROM deletion_queue WHERE state = 'pending'"
                           " GROUP BY attempts ORDER BY attempts");
    while (attempts.step())
        expected.by_attempts.push_back({static_cast<int>(attempts.int64(0)), attempts.int64(1)});
    db::Statement first_end(connection,
                            "SELECT MIN(next_attempt_at) FROM deletion_queue"
                            " WHERE state = 'restorable'");
    first_end.step();
    if (!first_end.is_null(0)) expected.first_window_end = first_end.int64(0);
    return expected;
}

void check_counters(db::Connection& connection, UnixMicros now) {
    const queue::Stats expected = recount(connection, now);
    const queue::Stats counted = queue::stats(connection, now).value();
    CHECK(counted.pending == expected.pending);
    CHECK(counted.dead == expected.dead);
    CHECK(counted.due == expected.due);
    CHECK(counted.leased == expected.leased);
    CHECK(counted.bytes_pending == expected.bytes_pending);
    CHECK(counted.bytes_dead == expected.bytes_dead);
    CHECK(counted.pending_unknown_size == expected.pending_unknown_size);
    CHECK(counted.oldest_queued == expected.oldest_queued);
    CHECK(counted.newest_queued == expected.newest_queued);
    CHECK(counted.restorable == expected.restorable);
    CHECK(counted.bytes_restorable == expected.bytes_restorable);
    CHECK(counted.first_window_end == expected.first_window_end);
    REQUIRE(counted.by_attempts.size() == expected.by_attempts.size());
    for (std::size_t i = 0; i < expected.by_attempts.size(); ++i) {
        CHECK(counted.by_attempts[i].attempts == expected.by_attempts[i].attempts);
        CHECK(counted.by_attempts[i].count == expected.by_attempts[i].count);
    }
    CHECK(queue::pending_count(connection).value() == expected.pending + expected.restorable);
}

std::vector<queue::ItemId> ids_of(const std::vector<queue::Item>& items) {
    std::vector<queue::ItemId> ids;
    for (const queue::Item& item : items) ids.push_back(item.id);
    return ids;
}

}  // namespace

TEST_CASE("queue counters equal a recount after random operations", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    std::mt19937_64 random{20261203};
    const auto pick = [&](int below) {
        return std::uniform_int_distribution<int>(0, below - 1)(random);
    };
    const auto some_size = [&]() -> std::optional<std::uint64_t> {
        if (pick(5) == 0) return std::nullopt;  // an orphan of unknown size
        return static_cast<std::uint64_t>(pick(100'000));
    };
    const auto key = [&] { return "images/k" + std::to_string(pick(120)) + ".jpg"; };
    constexpr int k_max_attempts = 3;
    UnixMicros now = 1'000'000;
    std::vector<queue::Item> leased;
    std::vector<catalog::ImageId> deleted_images;
    int uploads = 0;

    for (int step = 0; step < 400; ++step) {
        now += pick(3) * k_micros_per_second;
        switch (pick(11)) {
            case 0:
                REQUIRE(queue::enqueue(connection, {key(), "client", some_size()}, now));
                break;
            case 1: {
                std::vector<queue::EnqueueRequest> requests;
                for (int i = pick(20); i > 0; --i) requests.push_back({key(), "c", some_size()});
                REQUIRE(queue::enqueue_all(connection, requests, now));
                break;
            }
            case 2: {
                auto claimed = queue::claim(connection, "w", 1 + pick(10), now,
                                            now + 30 * k_micros_per_second);
                REQUIRE(claimed);
                leased.insert(leased.end(), claimed->begin(), claimed->end());
                break;
            }
            case 3:
                REQUIRE(queue::complete(connection, "w", ids_of(leased), now));
                leased.clear();
                break;
            case 4: {
                std::vector<queue::Failure> failures;
                for (const queue::Item& item : leased)
                    failures.push_back({item.id, "boom", now + pick(20) * k_micros_per_second});
                REQUIRE(queue::record_failures(connection, "w", failures, k_max_attempts));
                leased.clear();
                break;
            }
            case 5:
                REQUIRE(queue::release(connection, "w", ids_of(leased), now, "outage"));
                leased.clear();
                break;
            case 6:
                REQUIRE(queue::drop(connection, "w", ids_of(leased)));
                leased.clear();
                break;
            case 7:
                REQUIRE(queue::retry_dead(connection, now));
                break;
            case 8: {
                // Images deleted within a restore window of 10 s: restorable rows, which
                // claims turn pending once the window ends.
                std::vector<catalog::ImageId> ids;
                for (int i = 1 + pick(4); i > 0; --i) {
                    const std::string name = "u" + std::to_string(++uploads) + ".jpg";
                    auto image = catalog::insert_image(
                        connection,
                        {name, "images/" + name, name, "c" + std::to_string(pick(3)), std::nullopt,
                         std::nullopt, static_cast<std::uint64_t>(pick(50'000)), "image/jpeg"},
                        now);
                    REQUIRE(image);
                    ids.push_back(image->id);
                }
                REQUIRE(catalog::delete_images(connection, ids, now, std::chrono::seconds{10}));
                deleted_images.insert(deleted_images.end(), ids.begin(), ids.end());
                break;
            }
            case 9: {
                std::vector<catalog::ImageId> some;
                for (const catalog::ImageId id : deleted_images)
                    if (pick(3) == 0) some.push_back(id);
                REQUIRE(catalog::restore_images(connection, some));
                break;
            }
            default: {
                // A change the caller rolls back leaves the counters as they were.
                db::WriteTransaction abandoned(connection);
                REQUIRE(queue::enqueue(connection, {"images/rolled-back.jpg", "c", 7}, now));
                std::vector<queue::CarriedOver> carried{
                    {key(), "c", now - 1000 * k_micros_per_second, 2, "imported"}};
                REQUIRE(queue::carry_over(connection, carried, now));
                if (pick(2) == 0) abandoned.commit();
                break;
            }
        }
        if (step % 20 == 0) check_counters(connection, now);
    }
    check_counters(connection, now);
    // Far in the future every lease and retry has run out: all pending rows are due.
    check_counters(connection, now + 3600 * k_micros_per_second);
}

TEST_CASE("the counters migration counts the rows a queue already holds", "[postgresql]") {
    testing::TempDir dir;
    db::ConnectionOptions options = dir.database_options();
    options.create_if_missing = true;
    db::Connection connection(options);
    const auto& all = db::embedded_migrations(connection.engine());
    std::vector<db::Migration> before_counters;
    for (const db::Migration& migration : all)
        if (migration.version < 6) before_counters.push_back(migration);
    REQUIRE(db::migrate(connection, before_counters, 1));
    {
        db::WriteTransaction insert(connection);
        db::Statement row(connection,
                          "INSERT INTO deletion_queue (file_path, client_id, queued_at,"
                          " next_attempt_at, attempts, state, size_bytes)"
                          " VALUES (?1, 'c', ?2, ?2, ?3, ?4, ?5)");
        for (int i = 0; i < 50; ++i) {
            row.bind(1, "images/" + std::to_string(i));
            row.bind(2, std::int64_t{100} + i);
            row.bind(3, i % 4);
            row.bind(4, i % 10 == 0 ? "dead" : "pending");
            row.bind(5, i % 7 == 0 ? std::nullopt : std::optional<std::int64_t>(i * 10));
            row.execute();
            row.reset();
        }
        insert.commit();
    }
    REQUIRE(db::migrate(connection, all, 2));
    check_counters(connection, 120);
}
