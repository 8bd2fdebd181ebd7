// The cleaner on S3 under faults injected in front of a real S3 server: nothing is
// lost, no attempt is burnt by an outage, and the queue drains once faults stop.

#include <algorithm>
#include <catch2/catch.hpp>

#include "gallery/cleanup/cleaner.hpp"
#include "gallery/db/transaction.hpp"
#include "gallery/queue/queue.hpp"
#include "storage/s3/xml.hpp"
#include "support/fault_proxy.hpp"
#include "support/s3rver.hpp"

using namespace gallery;

namespace {

struct S3Fixture {
    testing::S3rver server;
    testing::FaultProxy proxy{server.port()};
    testing::TempDir dir;
    db::Connection connection = testing::open_migrated(dir.db_path());
    std::unique_ptr<storage::Storage> direct = storage::make_s3_storage(server.options());
    UnixMicros now = 1000 * k_micros_per_second;

    std::unique_ptr<storage::Storage> through_proxy(
        std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
        auto options = server.options();
        options.endpoint = proxy.endpoint();
        options.request_timeout = timeout;
        return storage::make_s3_storage(options);
    }
    std::vector<std::string> queue_objects(int count) {
        std::vector<std::string> keys;
        db::WriteTransaction tx(connection);
        for (int i = 0; i < count; ++i) {
            keys.push_back("images/d" + std::to_string(i % 20) + "/f" + std::to_string(i) + ".jpg");
            REQUIRE(direct->put(keys.back(), "x", "image/jpeg"));
            REQUIRE(queue::enqueue(connection, {keys.back(), "c", 1}, now));
        }
        tx.commit();
        return keys;
    }
    cleanup::Options options(std::vector<std::chrono::milliseconds>* waits = nullptr) {
        cleanup::Options o;
        o.batch_size = 50;
        o.until_empty = true;
        o.sleep = [waits](std::chrono::milliseconds d) {
            if (waits) waits->push_back(d);
        };
        return o;
    }
    int objects_left(const std::vector<std::string>& keys) {
        int left = 0;
        for (const auto& key : keys) left += direct->head(key)->has_value() ? 1 : 0;
        return left;
    }
};

}  // namespace

TEST_CASE("SlowDown is retried with its Retry-After and the batch then succeeds") {
    S3Fixture f;
    const auto keys = f.queue_objects(60);
    auto store = f.through_proxy();
    f.proxy.inject_faults(testing::Fault::slow_down, 2);
    std::vector<std::chrono::milliseconds> waits;
    const auto report = cleanup::Cleaner(
                            f.connection, *store, f.options(&waits), [&] { return f.now; }, "w")
                            .run();
    CHECK_FALSE(report.stopped_by);
    CHECK(report.deleted == 60);
    // Both SlowDown answers were waited out for at least their Retry-After. (A reused
    // connection the proxy closed can add a short extra retry: also a whole-request
    // failure, also retried.)
    REQUIRE(waits.size() >= 2);
    CHECK(std::count_if(waits.begin(), waits.end(),
                        [](auto wait) { return wait >= std::chrono::seconds{1}; }) >= 2);
    CHECK(f.objects_left(keys) == 0);
}

TEST_CASE(
    "an outage longer than the in-run retries gives the batch back and the queue drains after it") {
    S3Fixture f;
    const auto keys = f.queue_objects(80);
    auto store = f.through_proxy();
    f.proxy.inject_faults(testing::Fault::internal_error, 3);
    const auto first = cleanup::Cleaner(
                           f.connection, *store, f.options(), [&] { return f.now; }, "w")
                           .run();
    REQUIRE(first.stopped_by);
    CHECK(first.stopped_by->kind == ErrorKind::storage_transient);
    // Normally "HTTP 500 InternalError"; a reused connection the proxy closed can make
    // the last attempt a transport error instead. Either way: transient, from S3.
    CHECK(first.stopped_by->message.starts_with("cleanup: s3: "));
    auto stats = queue::stats(f.connection, f.now).value();
    CHECK(stats.pending == 80);
    CHECK(stats.by_attempts == std::vector<queue::AttemptCount>{{0, 80}});
    f.now += 2 * 3600 * k_micros_per_second;
    const auto second = cleanup::Cleaner(
                            f.connection, *store, f.options(), [&] { return f.now; }, "w")
                            .run();
    CHECK_FALSE(second.stopped_by);
    CHECK(second.deleted == 80);
    CHECK(second.remaining == 0);
    CHECK(f.objects_left(keys) == 0);
}

TEST_CASE("a stalled response times out and is retried") {
    S3Fixture f;
    const auto keys = f.queue_objects(10);
    auto store = f.through_proxy(std::chrono::milliseconds{800});
    f.proxy.inject_faults(testing::Fault::stall, 1);
    const auto report = cleanup::Cleaner(
                            f.connection, *store, f.options(), [&] { return f.now; }, "w")
                            .run();
    CHECK_FALSE(report.stopped_by);
    CHECK(report.deleted == 10);
    CHECK(f.objects_left(keys) == 0);
}

TEST_CASE("a server without DeleteObjects gets one DeleteObject per key", "[threads]") {
    S3Fixture f;
    const auto keys = f.queue_objects(12);
    auto store = f.through_proxy();
    f.proxy.inject_faults(testing::Fault::not_implemented, 1);  // the DeleteObjects POST
    const auto report = cleanup::Cleaner(
                            f.connection, *store, f.options(), [&] { return f.now; }, "w")
                            .run();
    CHECK_FALSE(report.stopped_by);
    CHECK(report.deleted == 12);
    CHECK(f.proxy.requests() >= 13);  // the refused batch, then one DELETE per key
    CHECK(f.objects_left(keys) == 0);
}

TEST_CASE("per-key errors in a DeleteObjects reply are read key by key", "[threads]") {
    const auto errors = storage::s3::parse_delete_result(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DeleteResult "
        "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Deleted><Key>images/ok.jpg</Key></Deleted>"
        "<Error><Key>images/a&amp;b.jpg</Key><Code>AccessDenied</Code><Message>Access "
        "Denied</Message></Error>"
        "<Error><Key>images/busy.jpg</Key><Code>InternalError</Code><Message>try "
        "again</Message></Error>"
        "</DeleteResult>");
    REQUIRE(errors);
    REQUIRE(errors->size() == 2);
    CHECK((*errors)[0].key == "images/a&b.jpg");
    CHECK((*errors)[0].code == "AccessDenied");
    CHECK((*errors)[1].code == "InternalError");
    CHECK_FALSE(storage::s3::parse_delete_result("<html>proxy error</html>"));
    const std::string body = storage::s3::delete_objects_body({"images/a&b<c>.jpg"}, true);
    CHECK(body.find("<Quiet>true</Quiet>") != std::string::npos);
    CHECK(body.find("<Key>images/a&amp;b&lt;c&gt;.jpg</Key>") != std::string::npos);
}
