// catalog::UploadKeys on a real database, both engines: every key handed out is new and
// covered by an intent, batches are reserved in one transaction, and the keys not
// handed out are released (when too old, and when the object goes).
#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "gallery/catalog/upload.hpp"
#include "gallery/catalog/upload_keys.hpp"
#include "gallery/db/statement.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;
using namespace std::chrono_literals;

namespace {

struct Intent {
    std::string client_id;
    UnixMicros created_at = 0;
    UnixMicros expires_at = 0;
};

std::map<std::string, Intent> intents(const testing::TempDir& dir) {
    db::Connection connection(dir.database_options());
    std::map<std::string, Intent> out;
    for (db::Statement q(
             connection,
             "SELECT storage_key, client_id, created_at, expires_at FROM upload_intents");
         q.step();) {
        out[q.text(0)] = {q.text(1), q.int64(2), q.int64(3)};
    }
    return out;
}

}  // namespace

TEST_CASE("upload keys are reserved a batch at a time, each under an intent", "[postgresql]") {
    testing::TempDir dir;
    testing::open_migrated(dir);
    db::ConnectionPool pool(dir.database_options(), 2);
    std::atomic<UnixMicros> now{5'000 * k_micros_per_second};
    catalog::UploadKeys keys(pool,
                             {.batch = 4, .unused_for = 60s, .clock = [&] { return now.load(); }});
    auto connection = pool.acquire();

    auto first = keys.take(*connection, ".jpg");
    REQUIRE(first);
    CHECK(first->storage_key == "images/" + first->filename);
    CHECK(first->filename.ends_with(".jpg"));
    CHECK(first->filename.size() == 36 + 4);
    CHECK(keys.unused() == 3);
    auto recorded = intents(dir);
    CHECK(recorded.size() == 4);  // the whole batch
    REQUIRE(recorded.contains(first->storage_key));
    const Intent& intent = recorded.at(first->storage_key);
    CHECK(intent.client_id.empty());
    CHECK(intent.created_at == now);
    CHECK(intent.expires_at == now + catalog::k_upload_intent_lifetime);

    // The rest of the batch first, then a new one; a .png gets a batch of its own.
    std::set<std::string> given{first->storage_key};
    for (int i = 0; i < 3; ++i) {
        auto key = keys.take(*connection, ".jpg");
        REQUIRE(key);
        CHECK(given.insert(key->storage_key).second);
    }
    CHECK(intents(dir).size() == 4);
    auto png = keys.take(*connection, ".png");
    REQUIRE(png);
    CHECK(png->filename.ends_with(".png"));
    CHECK(intents(dir).size() == 8);
    CHECK(keys.unused() == 3);
    for (const auto& key : given) CHECK(intents(dir).contains(key));
}

TEST_CASE("upload keys left unused are released when the keys object goes",
          "[threads][postgresql]") {
    testing::TempDir dir;
    testing::open_migrated(dir);
    db::ConnectionPool pool(dir.database_options(), 2);
    std::string taken;
    {
        catalog::UploadKeys keys(pool, {.batch = 16});
        auto key = keys.take(*pool.acquire(), ".webp");
        REQUIRE(key);
        taken = key->storage_key;
        CHECK(intents(dir).size() == 16);
    }
    // The key handed out keeps its intent: its upload may still be writing the object.
    const auto left = intents(dir);
    CHECK(left.size() == 1);
    CHECK(left.contains(taken));
}

TEST_CASE("upload keys not handed out in time are released and never given",
          "[threads][postgresql]") {
    testing::TempDir dir;
    testing::open_migrated(dir);
    db::ConnectionPool pool(dir.database_options(), 2);
    std::atomic<UnixMicros> now{9'000 * k_micros_per_second};
    catalog::UploadKeys keys(
        pool, {.batch = 8, .unused_for = 100ms, .clock = [&] { return now.load(); }});
    auto connection = pool.acquire();
    auto first = keys.take(*connection, ".jpg");
    REQUIRE(first);
    const auto batch = intents(dir);
    REQUIRE(batch.size() == 8);

    // Older than unused_for: take() reserves anew instead of handing out an old key,
    // and the periodic release drops the old ones' intents.
    now += 101'000;
    auto second = keys.take(*connection, ".jpg");
    REQUIRE(second);
    CHECK_FALSE(batch.contains(second->storage_key));
    for (int waited = 0; waited < 100 && intents(dir).size() != 1 + 8; ++waited)
        std::this_thread::sleep_for(20ms);
    const auto now_recorded = intents(dir);
    CHECK(now_recorded.size() == 1 + 8);
    CHECK(now_recorded.contains(first->storage_key));
    for (const auto& [key, intent] : batch) {
        if (key != first->storage_key) CHECK_FALSE(now_recorded.contains(key));
    }

    // The same happens with no take() at all: an idle server keeps no reserved keys.
    now += 101'000;
    for (int waited = 0; waited < 100 && intents(dir).size() != 2; ++waited)
        std::this_thread::sleep_for(20ms);
    CHECK(intents(dir).size() == 2);
    CHECK(keys.unused() == 0);
}

TEST_CASE("upload keys taken by many threads at once are all different and all covered",
          "[threads][postgresql]") {
    testing::TempDir dir;
    testing::open_migrated(dir);
    db::ConnectionPool pool(dir.database_options(), 8);
    std::vector<std::vector<std::string>> taken(8);
    std::atomic<int> failed_takes{0};  // Catch's assertions are for the main thread
    {
        catalog::UploadKeys keys(pool, {.batch = 5});
        std::vector<std::thread> threads;
        for (std::size_t t = 0; t < taken.size(); ++t) {
            threads.emplace_back([&, t] {
                auto connection = pool.acquire();
                for (int i = 0; i < 40; ++i) {
                    auto key = keys.take(*connection, i % 3 == 0 ? ".png" : ".jpg");
                    if (!key) {
                        ++failed_takes;
                        continue;
                    }
                    taken[t].push_back(key->storage_key);
                }
            });
        }
        for (auto& thread : threads) thread.join();
    }
    CHECK(failed_takes == 0);
    std::set<std::string> all;
    for (const auto& keys : taken) all.insert(keys.begin(), keys.end());
    CHECK(all.size() == 8 * 40);
    // After the release exactly the keys handed out keep an intent.
    std::set<std::string> recorded;
    for (const auto& [key, intent] : intents(dir)) recorded.insert(key);
    CHECK(recorded == all);
}
