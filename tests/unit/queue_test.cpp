#include "gallery/db/statement.hpp"

#include <catch2/catch.hpp>
#include <set>

#include "gallery/db/transaction.hpp"
#include "gallery/queue/backoff.hpp"
#include "gallery/queue/queue.hpp"
#include "support/fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;
using testing::enqueue_keys;

namespace {

constexpr UnixMicros k_second = k_micros_per_second;

std::vector<queue::ItemId> ids_of(const std::vector<queue::Item>& items) {
    std::vector<queue::ItemId> ids;
    for (const auto& item : items) ids.push_back(item.id);
    return ids;
}

std::string state_of(db::Connection& connection, queue::ItemId id) {
    db::Statement query(connection, "SELECT state FROM deletion_queue WHERE id = ?");
    query.bind(1, id);
    return query.step() ? query.text(0) : "gone";
}

}  // namespace

TEST_CASE("a key is pending at most once", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    db::WriteTransaction tx(connection);
    CHECK(queue::enqueue(connection, {"images/a.jpg", "c", 5}, 1).value());
    CHECK_FALSE(queue::enqueue(connection, {"images/a.jpg", "c", 5}, 2).value());
    tx.commit();
    CHECK(queue::pending_count(connection).value() == 1);
}

TEST_CASE("enqueue rolls back with the caller's transaction", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    {
        db::WriteTransaction tx(connection);
        REQUIRE(queue::enqueue(connection, {"images/a.jpg", "c", 5}, 1));
    }
    CHECK(queue::pending_count(connection).value() == 0);
}

TEST_CASE("two workers claim disjoint rows", "[threads][postgresql]") {
    testing::TempDir dir;
    db::Connection first = testing::open_migrated(dir);
    db::Connection second(dir.database_options());
    enqueue_keys(first, 10, 0);
    auto a = queue::claim(first, "worker-a", 4, 1, 100 * k_second).value();
    auto b = queue::claim(second, "worker-b", 100, 1, 100 * k_second).value();
    CHECK(a.size() == 4);
    CHECK(b.size() == 6);
    std::set<queue::ItemId> all;
    for (auto id : ids_of(a)) all.insert(id);
    for (auto id : ids_of(b)) all.insert(id);
    CHECK(all.size() == 10);
    CHECK(queue::claim(first, "worker-c", 100, 2, 100 * k_second).value().empty());
}

TEST_CASE("a crashed worker's rows come back after the lease", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    enqueue_keys(connection, 3, 0);
    const UnixMicros lease_end = 300 * k_second;
    REQUIRE(queue::claim(connection, "dead-worker", 10, 1, lease_end).value().size() == 3);
    CHECK(queue::claim(connection, "other", 10, lease_end - 1, lease_end + 300 * k_second)
              .value()
              .empty());
    auto reclaimed =
        queue::claim(connection, "other", 10, lease_end, lease_end + 300 * k_second).value();
    CHECK(reclaimed.size() == 3);
    // The old owner can no longer finish them.
    CHECK(queue::complete(connection, "dead-worker", ids_of(reclaimed), 1).value().rows == 0);
    CHECK(queue::complete(connection, "other", ids_of(reclaimed), 1).value().rows == 3);
    CHECK(queue::pending_count(connection).value() == 0);
}

TEST_CASE("failures back off and then move the row to dead which is kept and can be retried",
          "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    enqueue_keys(connection, 1, 0);
    UnixMicros now = 1;
    for (int attempt = 1; attempt <= 3; ++attempt) {
        auto items = queue::claim(connection, "w", 10, now, now + 300 * k_second).value();
        REQUIRE(items.size() == 1);
        CHECK(items[0].attempts == attempt - 1);
        auto outcome =
            queue::record_failures(
                connection, "w",
                std::vector<queue::Failure>{{items[0].id, "boom", now + 60 * k_second}}, 3)
                .value();
        CHECK(outcome.dead == (attempt == 3 ? 1u : 0u));
        // Not due again before its retry time.
        CHECK(queue::claim(connection, "w", 10, now + 59 * k_second, now + 400 * k_second)
                  .value()
                  .empty());
        now += 60 * k_second;
    }
    auto stats = queue::stats(connection, now).value();
    CHECK(stats.pending == 0);
    CHECK(stats.dead == 1);
    CHECK(queue::claim(connection, "w", 10, now + 1000 * k_second, now + 2000 * k_second)
              .value()
              .empty());
    CHECK(queue::retry_dead(connection, now).value() == 1);
    auto again = queue::claim(connection, "w", 10, now, now + 300 * k_second).value();
    REQUIRE(again.size() == 1);
    CHECK(again[0].attempts == 0);
}

TEST_CASE("retrying a dead key that is pending again keeps one pending row", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    enqueue_keys(connection, 1, 0);
    auto items = queue::claim(connection, "w", 1, 1, 100).value();
    REQUIRE(queue::record_failures(connection, "w",
                                   std::vector<queue::Failure>{{items[0].id, "e", 1}}, 1)
                .value()
                .dead == 1);
    enqueue_keys(connection, 1, 2);  // the same key queued again meanwhile
    CHECK(queue::retry_dead(connection, 3).value() == 0);
    CHECK(state_of(connection, items[0].id) == "gone");
    CHECK(queue::pending_count(connection).value() == 1);
}

TEST_CASE("release gives rows back without counting an attempt", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    enqueue_keys(connection, 2, 0);
    auto items = queue::claim(connection, "w", 10, 1, 1000).value();
    REQUIRE(queue::release(connection, "w", ids_of(items), 50, "storage unreachable"));
    CHECK(queue::claim(connection, "w", 10, 49, 1000).value().empty());
    auto again = queue::claim(connection, "w", 10, 50, 1000).value();
    REQUIRE(again.size() == 2);
    CHECK(again[0].attempts == 0);
}

TEST_CASE("queue stats count pending dead leased due bytes and attempts", "[postgresql]") {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    enqueue_keys(connection, 5, 100);
    auto leased = queue::claim(connection, "w", 2, 200, 10'000).value();
    REQUIRE(queue::record_failures(connection, "w",
                                   std::vector<queue::Failure>{{leased[0].id, "e", 300}}, 5));
    auto stats = queue::stats(connection, 250).value();
    CHECK(stats.pending == 5);
    CHECK(stats.leased == 1);
    CHECK(stats.due == 3);
    CHECK(stats.bytes_pending == 50);
    CHECK(stats.oldest_queued == 100);
    REQUIRE(stats.by_attempts.size() == 2);
    CHECK(stats.by_attempts[0].attempts == 0);
    CHECK(stats.by_attempts[0].count == 4);
    CHECK(stats.by_attempts[1].attempts == 1);
    CHECK(stats.by_attempts[1].count == 1);
}

TEST_CASE("backoff grows exponentially with jitter between its floor and its cap", "[postgresql]") {
    std::mt19937_64 random{42};
    const queue::BackoffPolicy policy{};
    for (int failures = 1; failures <= 12; ++failures) {
        const UnixMicros ceiling = std::min<UnixMicros>(3600, 60LL << (failures - 1)) * k_second;
        for (int i = 0; i < 50; ++i) {
            const UnixMicros delay = queue::backoff_delay(policy, failures, random);
            CHECK(delay >= 30 * k_second);
            CHECK(delay <= 30 * k_second + ceiling);
        }
    }
    // Jitter: not every delay is the same.
    std::set<UnixMicros> seen;
    for (int i = 0; i < 20; ++i) seen.insert(queue::backoff_delay(policy, 5, random));
    CHECK(seen.size() > 10);
}
