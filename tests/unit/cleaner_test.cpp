#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gallery/db/statement.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "gallery/catalog/catalog.hpp"
#include "gallery/cleanup/cleaner.hpp"
#include "gallery/db/transaction.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/queue/reconcile.hpp"
#include "gallery/storage/local_storage.hpp"
#include "support/faulty_storage.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;

namespace {

constexpr UnixMicros k_second = k_micros_per_second;

// A database and a media folder with `count` real files, all queued for deletion.
struct Fixture {
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir);
    std::unique_ptr<storage::Storage> local = storage::make_local_storage(dir.media_root());
    UnixMicros now = 1000 * k_second;

    std::string key(int i) const { return "images/file" + std::to_string(i) + ".jpg"; }

    void queue_files(int count, int first = 0) {
        db::WriteTransaction tx(connection);
        for (int i = first; i < first + count; ++i) {
            testing::write_file(dir.media_root(), key(i), "0123456789");
            REQUIRE(queue::enqueue(connection, {key(i), "client", 10}, now).value());
        }
        tx.commit();
    }
    bool exists(int i) const { return std::filesystem::exists(dir.media_root() / key(i)); }
    Clock clock() {
        return [this] { return now; };
    }
    cleanup::Options options(std::size_t batch) {
        cleanup::Options o;
        o.batch_size = batch;
        o.sleep = [](std::chrono::milliseconds) {};
        return o;
    }
};

}  // namespace

TEST_CASE("the cleaner deletes queued files and then their rows and reports what it did",
          "[threads][postgresql]") {
    Fixture f;
    f.queue_files(5);
    cleanup::Cleaner cleaner(f.connection, *f.local, f.options(3), f.clock(), "w");
    const auto first = cleaner.run();
    CHECK(first.processed == 3);
    CHECK(first.deleted == 3);
    CHECK(first.remaining == 2);
    CHECK(first.bytes_reclaimed == 30);
    CHECK_FALSE(first.stopped_by);
    const auto second = cleaner.run();
    CHECK(second.deleted == 2);
    CHECK(second.remaining == 0);
    for (int i = 0; i < 5; ++i) CHECK_FALSE(f.exists(i));
}

TEST_CASE("until_empty keeps claiming batches until nothing is due", "[threads][postgresql]") {
    Fixture f;
    f.queue_files(25);
    auto options = f.options(10);
    options.until_empty = true;
    int batches_seen = 0;
    const auto report =
        cleanup::Cleaner(f.connection, *f.local, options, f.clock(), "w").run([&](const auto&) {
            ++batches_seen;
        });
    CHECK(report.deleted == 25);
    CHECK(report.batches == 3);
    CHECK(batches_seen == 3);
    CHECK(report.remaining == 0);
}

TEST_CASE("a key a live image still references is dropped from the queue and never deleted",
          "[postgresql]") {
    Fixture f;
    f.queue_files(2);
    REQUIRE(catalog::insert_image(
        f.connection,
        {"file0.jpg", f.key(0), "o.jpg", "client", std::nullopt, std::nullopt, 10, "image/jpeg"},
        f.now));
    const auto report =
        cleanup::Cleaner(f.connection, *f.local, f.options(10), f.clock(), "w").run();
    CHECK(report.skipped_live == 1);
    CHECK(report.deleted == 1);
    CHECK(report.remaining == 0);
    CHECK(f.exists(0));
    CHECK_FALSE(f.exists(1));
}

TEST_CASE("a key under the protected prefix of backups is charged as a failure and never deleted",
          "[postgresql]") {
    Fixture f;
    f.queue_files(1);
    {
        db::WriteTransaction tx(f.connection);
        testing::write_file(f.dir.media_root(), "backups/gallery-1.db.gz", "backup");
        REQUIRE(
            queue::enqueue(f.connection, {"backups/gallery-1.db.gz", "client", 6}, f.now).value());
        tx.commit();
    }
    auto options = f.options(10);
    options.max_attempts = 1;
    options.protected_prefix = "backups/";
    const auto report = cleanup::Cleaner(f.connection, *f.local, options, f.clock(), "w").run();
    CHECK(report.deleted == 1);
    CHECK(report.failed == 1);
    CHECK(report.dead == 1);
    CHECK_FALSE(f.exists(0));
    CHECK(std::filesystem::exists(f.dir.media_root() / "backups/gallery-1.db.gz"));
}

TEST_CASE("a per-key failure retries that key later and moves it to dead after max_attempts",
          "[postgresql]") {
    Fixture f;
    f.queue_files(3);
    testing::FaultyStorage faulty(*f.local);
    faulty.failing_keys = {f.key(1)};
    auto options = f.options(10);
    options.max_attempts = 2;
    cleanup::Cleaner cleaner(f.connection, faulty, options, f.clock(), "w");
    const auto first = cleaner.run();
    CHECK(first.deleted == 2);
    CHECK(first.failed == 1);
    CHECK(first.dead == 0);
    CHECK(first.remaining == 1);
    // Not retried before its backoff.
    CHECK(cleaner.run().processed == 0);
    f.now += 2 * 3600 * k_second;
    const auto second = cleaner.run();
    CHECK(second.failed == 1);
    CHECK(second.dead == 1);
    CHECK(second.remaining == 0);
    CHECK(f.exists(1));
    auto stats = queue::stats(f.connection, f.now).value();
    CHECK(stats.dead == 1);
    // Dead rows are kept and can be retried.
    faulty.failing_keys.clear();
    REQUIRE(queue::retry_dead(f.connection, f.now).value() == 1);
    CHECK(cleaner.run().deleted == 1);
    CHECK_FALSE(f.exists(1));
}

TEST_CASE(
    "a whole-request failure retries the batch and then gives it back without burning attempts",
    "[postgresql]") {
    Fixture f;
    f.queue_files(4);
    testing::FaultyStorage faulty(*f.local);
    faulty.whole_request_error =
        Error{ErrorKind::storage_transient, "HTTP 503 SlowDown", std::chrono::seconds{5}};
    auto options = f.options(10);
    std::vector<std::chrono::milliseconds> waits;
    options.sleep = [&](std::chrono::milliseconds d) { waits.push_back(d); };
    cleanup::Cleaner cleaner(f.connection, faulty, options, f.clock(), "w");
    const auto report = cleaner.run();
    REQUIRE(report.stopped_by);
    CHECK(report.stopped_by->kind == ErrorKind::storage_transient);
    CHECK(report.stopped_by->message == "cleanup: HTTP 503 SlowDown");
    CHECK(faulty.remove_many_calls == 3);
    REQUIRE(waits.size() == 2);
    for (auto wait : waits) CHECK(wait >= std::chrono::seconds{5});  // Retry-After honoured
    CHECK(report.deleted == 0);
    auto stats = queue::stats(f.connection, f.now).value();
    CHECK(stats.pending == 4);
    REQUIRE(stats.by_attempts.size() == 1);
    CHECK(stats.by_attempts[0].attempts == 0);
    // Recovers once storage answers again (after the backoff).
    faulty.whole_request_error.reset();
    f.now += 2 * 3600 * k_second;
    CHECK(cleaner.run().deleted == 4);
}

TEST_CASE("a batch that outlives its lease leaves its rows to the run that claimed them since",
          "[threads][postgresql]") {
    Fixture f;
    f.queue_files(4);
    std::atomic<UnixMicros> now{f.now};
    const Clock clock = [&] { return now.load(); };
    // Both runs are of one process (one worker name); keys 0 and 1 fail, 2 and 3 go.
    struct Run {
        std::unique_ptr<storage::Storage> local;
        std::unique_ptr<testing::FaultyStorage> storage;
        std::promise<void> in_storage;
        std::promise<void> go_on;
        std::optional<cleanup::Report> report;
        std::string owner;
    };
    const auto start = [&](Run& run, const cleanup::Options& options) {
        run.local = storage::make_local_storage(f.dir.media_root());
        run.storage = std::make_unique<testing::FaultyStorage>(*run.local);
        run.storage->failing_keys = {f.key(0), f.key(1)};
        auto go_on = run.go_on.get_future().share();
        bool first = true;
        run.storage->before_each_remove = [&run, go_on, first](const std::string&) mutable {
            if (!std::exchange(first, false)) return;
            run.in_storage.set_value();
            go_on.wait();
        };
        return std::thread([&f, &run, options, clock] {
            db::Connection connection(f.dir.database_options());
            cleanup::Cleaner cleaner(connection, *run.storage, options, clock, "host:1:abcd");
            run.report = cleaner.run();
            run.owner = cleaner.lease_owner();
        });
    };
    auto options = f.options(10);
    options.lease = std::chrono::seconds{60};
    Run first, second;
    std::thread first_thread = start(first, options);
    first.in_storage.get_future().wait();
    now += 61 * k_second;  // the first run's lease runs out while it deletes
    std::thread second_thread = start(second, options);
    second.in_storage.get_future().wait();
    const auto leased_by = [&](int i) {
        db::Statement row(f.connection,
                          "SELECT COALESCE(lease_owner, ''), attempts FROM deletion_queue"
                          " WHERE file_path = ?1");
        row.bind(1, f.key(i));
        // No REQUIRE here: the second run must still be let go on when this fails.
        if (!row.step()) return std::pair<std::string, std::int64_t>{"(row gone)", -1};
        return std::pair{row.text(0), row.int64(1)};
    };

    // The first run finishes its late batch: it neither charges nor removes the rows the
    // second run holds now.
    first.go_on.set_value();
    first_thread.join();
    REQUIRE(first.report);
    CHECK(first.report->deleted == 0);
    CHECK(first.report->failed == 0);
    for (int i = 0; i < 4; ++i) {
        const auto [owner, attempts] = leased_by(i);
        CHECK(owner != first.owner);
        CHECK(owner.starts_with("host:1:abcd:run-"));
        CHECK(attempts == 0);
    }

    second.go_on.set_value();
    second_thread.join();
    REQUIRE(second.report);
    CHECK(second.owner != first.owner);
    CHECK(second.report->deleted == 2);
    CHECK(second.report->failed == 2);
    for (int i = 0; i < 2; ++i) CHECK(leased_by(i).second == 1);  // charged once
    for (int i = 2; i < 4; ++i) {
        CHECK(queue::receipts_for(f.connection, f.key(i)).value().size() == 1);
        CHECK_FALSE(f.exists(i));
    }
}

TEST_CASE("a batch's lease is renewed across the run's own retries so no other run takes it",
          "[postgresql]") {
    Fixture f;
    f.queue_files(4);
    testing::FaultyStorage faulty(*f.local);
    faulty.whole_request_error =
        Error{ErrorKind::storage_transient, "HTTP 503 SlowDown", std::chrono::seconds{5}};
    faulty.whole_request_failures_left = 1;
    auto options = f.options(10);
    options.lease = std::chrono::seconds{10};
    std::int64_t taken_by_other = -1;
    options.sleep = [&](std::chrono::milliseconds wait) {
        // The wait outlasts the lease taken at the claim: another run looks meanwhile.
        f.now += wait.count() * 1000 + 6 * k_second;
        cleanup::Cleaner other(f.connection, *f.local, f.options(10), f.clock(), "other");
        taken_by_other = other.run().processed;
    };
    cleanup::Cleaner cleaner(f.connection, faulty, options, f.clock(), "w");
    const auto report = cleaner.run();
    CHECK(taken_by_other == 0);
    CHECK_FALSE(report.stopped_by);
    CHECK(report.deleted == 4);
    CHECK(faulty.remove_many_calls == 2);
}

TEST_CASE("a permanent storage error stops the run without touching attempts", "[postgresql]") {
    Fixture f;
    f.queue_files(3);
    testing::FaultyStorage faulty(*f.local);
    faulty.whole_request_error = Error{ErrorKind::storage_permanent, "HTTP 403 AccessDenied"};
    auto options = f.options(10);
    options.until_empty = true;
    const auto report = cleanup::Cleaner(f.connection, faulty, options, f.clock(), "w").run();
    REQUIRE(report.stopped_by);
    CHECK(report.stopped_by->kind == ErrorKind::storage_permanent);
    CHECK(faulty.remove_many_calls == 1);
    CHECK(report.batches == 1);
    auto stats = queue::stats(f.connection, f.now).value();
    CHECK(stats.pending == 3);
    CHECK(stats.by_attempts[0].attempts == 0);
}

TEST_CASE(
    "a worker killed with SIGKILL mid-batch loses nothing; its rows are processed after the "
    "lease",
    "[postgresql]") {
    Fixture f;
    f.queue_files(20);
    const auto progress_file = f.dir.path() / "deleted-count";
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The child has its own connection and deletes five files, then hangs mid-batch.
        db::Connection connection(f.dir.database_options());
        auto local = storage::make_local_storage(f.dir.media_root());
        testing::FaultyStorage hanging(*local);
        int removed = 0;
        hanging.before_each_remove = [&](const std::string&) {
            if (removed++ == 5) {
                testing::write_file(f.dir.path(), "deleted-count", "5");
                ::pause();
            }
        };
        cleanup::Options options;
        options.batch_size = 100;
        options.lease = std::chrono::seconds{60};
        cleanup::Cleaner(
            connection, hanging, options, [] { return 1000 * k_second; }, "child")
            .run();
        ::_exit(0);
    }
    for (int i = 0; i < 500 && !std::filesystem::exists(progress_file); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(std::filesystem::exists(progress_file));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFSIGNALED(status));

    // Every row is still queued (leased by the dead worker); five files are gone already.
    int files_left = 0;
    for (int i = 0; i < 20; ++i) files_left += f.exists(i) ? 1 : 0;
    CHECK(files_left == 15);
    CHECK(queue::pending_count(f.connection).value() == 20);
    cleanup::Cleaner cleaner(f.connection, *f.local, f.options(100), f.clock(), "rescuer");
    f.now += 59 * k_second;
    CHECK(cleaner.run().processed == 0);  // still leased
    f.now += 1 * k_second;
    const auto report = cleaner.run();
    CHECK(report.processed == 20);
    CHECK(report.deleted == 20);  // the five already gone count as deleted
    CHECK(report.remaining == 0);
    for (int i = 0; i < 20; ++i) CHECK_FALSE(f.exists(i));
}

TEST_CASE("two cleaners running at once process every row exactly once", "[threads][postgresql]") {
    Fixture f;
    f.queue_files(2000);
    std::atomic<std::int64_t> processed{0}, deleted{0};
    // Catch's assertions are for the main thread (two threads asserting at once race
    // on its counters, which ThreadSanitizer reports): each run's outcome is kept here.
    std::array<std::optional<Error>, 2> stopped_by;
    auto work = [&](const std::string& owner, std::optional<Error>& stopped) {
        db::Connection connection(f.dir.database_options());
        auto local = storage::make_local_storage(f.dir.media_root());
        cleanup::Options options;
        options.batch_size = 37;
        options.until_empty = true;
        const auto report =
            cleanup::Cleaner(connection, *local, options, system_clock(), owner).run();
        stopped = report.stopped_by;
        processed += report.processed;
        deleted += report.deleted;
    };
    std::thread a(work, "a", std::ref(stopped_by[0])), b(work, "b", std::ref(stopped_by[1]));
    a.join();
    b.join();
    for (const auto& stopped : stopped_by) {
        INFO((stopped ? stopped->message : ""));
        CHECK_FALSE(stopped);
    }
    CHECK(processed == 2000);
    CHECK(deleted == 2000);
    CHECK(queue::pending_count(f.connection).value() == 0);
}

TEST_CASE("a dry run lists the next batch and changes nothing", "[postgresql]") {
    Fixture f;
    f.queue_files(3);
    REQUIRE(catalog::insert_image(
        f.connection,
        {"file2.jpg", f.key(2), "o.jpg", "client", std::nullopt, std::nullopt, 10, "image/jpeg"},
        f.now));
    auto plan =
        cleanup::Cleaner(f.connection, *f.local, f.options(2), f.clock(), "w").plan().value();
    REQUIRE(plan.size() == 2);
    CHECK(queue::pending_count(f.connection).value() == 3);
    CHECK(queue::stats(f.connection, f.now).value().leased == 0);
    for (int i = 0; i < 3; ++i) CHECK(f.exists(i));
}

TEST_CASE("when every delete of a batch fails the run stops after charging that batch only",
          "[postgresql]") {
    Fixture f;
    f.queue_files(25);
    // Injected: an unwritable media root fails every key (root, which runs the
    // tests, ignores file permissions, so a real one cannot be made here).
    testing::FaultyStorage faulty(*f.local);
    for (int i = 0; i < 25; ++i) faulty.failing_keys.insert(f.key(i));
    auto options = f.options(10);
    options.until_empty = true;
    cleanup::Cleaner cleaner(f.connection, faulty, options, f.clock(), "w");
    const auto report = cleaner.run();
    CHECK(report.batches == 1);
    CHECK(report.processed == 10);
    CHECK(report.failed == 10);
    REQUIRE(report.stopped_by);
    CHECK(report.stopped_by->kind == ErrorKind::storage_transient);
    CHECK(report.stopped_by->message.find("storage looks unavailable: all 10 deletes") !=
          std::string::npos);
    CHECK(db::query_int64(f.connection, "SELECT COUNT(*) FROM deletion_queue WHERE attempts > 0") ==
          10);
    CHECK(queue::pending_count(f.connection).value() == 25);
}

TEST_CASE("a batch with some deletes failing does not trip the breaker", "[postgresql]") {
    Fixture f;
    f.queue_files(25);
    testing::FaultyStorage faulty(*f.local);
    for (int i = 0; i < 25; i += 2) faulty.failing_keys.insert(f.key(i));
    auto options = f.options(10);
    options.until_empty = true;
    cleanup::Cleaner cleaner(f.connection, faulty, options, f.clock(), "w");
    const auto report = cleaner.run();
    CHECK_FALSE(report.stopped_by);
    CHECK(report.deleted == 12);
    CHECK(report.failed == 13);
}

TEST_CASE("the scheduler's delay doubles while storage is down and is capped at an hour",
          "[threads][postgresql]") {
    using std::chrono::seconds;
    CHECK(cleanup::outage_delay(seconds{300}, 0) == seconds{300});
    CHECK(cleanup::outage_delay(seconds{300}, 1) == seconds{600});
    CHECK(cleanup::outage_delay(seconds{300}, 3) == seconds{2400});
    CHECK(cleanup::outage_delay(seconds{300}, 4) == seconds{3600});
    CHECK(cleanup::outage_delay(seconds{300}, 1000) == seconds{3600});
    CHECK(cleanup::outage_delay(seconds{7200}, 5) == seconds{7200});  // never shorter than `every`
}
