// The writers of one process take SQLite's write lock one at a time, in the order
// they asked for it (src/db/sqlite/writer_turn.hpp).
#include "db/sqlite/writer_turn.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "gallery/db/statement.hpp"
#include "gallery/db/transaction.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;
using namespace std::chrono_literals;

namespace {

// Until `turn` has `count` writers waiting (each thread is started only once the one
// before it waits, which fixes the order of arrival).
void wait_for_waiters(db::WriterTurn& turn, std::size_t count) {
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (turn.waiting() < count) {
        REQUIRE(std::chrono::steady_clock::now() < give_up);
        std::this_thread::sleep_for(1ms);
    }
}

}  // namespace

TEST_CASE("write transactions of one process commit in the order they began waiting", "[threads]") {
    testing::TempDir dir;
    db::Connection holder = testing::open_migrated(dir);
    const auto turn = db::WriterTurn::for_file(dir.db_path());
    constexpr int k_writers = 8;
    std::vector<std::thread> writers;
    std::atomic<int> failed_writes{0};  // Catch's assertions are for the main thread
    {
        db::WriteTransaction held(holder);
        for (int i = 0; i < k_writers; ++i) {
            writers.emplace_back([&dir, &failed_writes, i] {
                db::Connection connection(dir.database_options());
                auto written = db::write(connection, "test: ordered write", [&] {
                    db::Statement insert(connection,
                                         "INSERT INTO settings (key, value, updated_at)"
                                         " VALUES (?1, 'x', 0)");
                    insert.bind(1, "writer-" + std::to_string(i));
                    insert.execute();
                });
                if (!written) ++failed_writes;
            });
            wait_for_waiters(*turn, static_cast<std::size_t>(i) + 1);
        }
        held.commit();
    }
    for (std::thread& writer : writers) writer.join();
    CHECK(failed_writes == 0);
    db::Statement order(holder,
                        "SELECT key FROM settings WHERE key LIKE 'writer-%' ORDER BY rowid");
    for (int i = 0; i < k_writers; ++i) {
        REQUIRE(order.step());
        CHECK(order.text(0) == "writer-" + std::to_string(i));
    }
    CHECK_FALSE(order.step());
}

TEST_CASE("a writer that waits longer than the busy timeout gets an error and the turn survives",
          "[threads]") {
    testing::TempDir dir;
    db::Connection holder = testing::open_migrated(dir);
    db::ConnectionOptions impatient = dir.database_options();
    impatient.busy_timeout = 50ms;
    db::Connection waiting(impatient);
    {
        db::WriteTransaction held(holder);
        auto refused = db::write(waiting, "test: impatient write", [] {});
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error().message.find("database is locked") != std::string::npos);
        CHECK(db::WriterTurn::for_file(dir.db_path())->waiting() == 0);
        held.commit();
    }
    CHECK(db::write(waiting, "test: write after the holder", [] {}).has_value());
    CHECK(db::write(holder, "test: and the holder again", [] {}).has_value());
}

TEST_CASE("a writer turn is handed over in arrival order", "[threads]") {
    db::WriterTurn turn;
    REQUIRE(turn.take(1s));
    std::vector<int> order;
    std::mutex order_mutex;
    std::vector<std::thread> waiters;
    for (int i = 0; i < 5; ++i) {
        waiters.emplace_back([&, i] {
            if (!turn.take(10s)) return;  // missing from `order`, which fails the check
            {
                std::lock_guard lock(order_mutex);
                order.push_back(i);
            }
            turn.give_back();
        });
        wait_for_waiters(turn, static_cast<std::size_t>(i) + 1);
    }
    turn.give_back();
    for (std::thread& waiter : waiters) waiter.join();
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
    CHECK(turn.take(0ms));
}

TEST_CASE("a writer giving the turn back runs the jobs waiting behind it, in their order",
          "[threads]") {
    db::WriterTurn turn;
    REQUIRE(turn.take(1s));
    const std::thread::id giver = std::this_thread::get_id();
    std::vector<int> order;
    std::vector<std::thread::id> ran_on;
    std::vector<std::thread> waiters;
    std::atomic<int> refused{0};
    for (int i = 0; i < 3; ++i) {
        waiters.emplace_back([&, i] {
            auto job = [&] {
                order.push_back(i);  // the turn makes these writes one at a time
                ran_on.push_back(std::this_thread::get_id());
            };
            if (!turn.run(job, 10s)) ++refused;
        });
        wait_for_waiters(turn, static_cast<std::size_t>(i) + 1);
    }
    turn.give_back();
    for (std::thread& waiter : waiters) waiter.join();
    CHECK(refused == 0);
    CHECK(order == std::vector<int>{0, 1, 2});
    CHECK(ran_on == std::vector<std::thread::id>(3, giver));
    CHECK(turn.take(0ms));
}

TEST_CASE("a job whose patience runs out while it runs still finishes and says so", "[threads]") {
    db::WriterTurn turn;
    REQUIRE(turn.take(1s));
    std::atomic<bool> ran{false};
    std::atomic<bool> answered_ran{false};
    std::thread waiter([&] {
        auto job = [&] {
            std::this_thread::sleep_for(600ms);  // longer than the waiter's patience
            ran = true;
        };
        answered_ran = turn.run(job, 200ms);
    });
    wait_for_waiters(turn, 1);
    turn.give_back();  // runs the job here, on this thread
    waiter.join();
    CHECK(ran);
    CHECK(answered_ran);
    CHECK(turn.take(0ms));
}
