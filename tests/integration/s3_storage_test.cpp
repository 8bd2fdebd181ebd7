// The S3 backend against a real S3 server on loopback that checks signatures.

#include <catch2/catch.hpp>

#include "support/read_object.hpp"
#include "support/s3rver.hpp"
#include "support/storage_contract.hpp"

using namespace gallery;

TEST_CASE("the S3 backend keeps the storage contract against a real S3 server") {
    testing::S3rver server;
    auto store = storage::make_s3_storage(server.options());
    testing::check_storage_contract(*store);
}

TEST_CASE(
    "keys with spaces plus signs reserved characters and unicode round-trip and are deleted") {
    testing::S3rver server;
    auto store = storage::make_s3_storage(server.options());
    const std::vector<std::string> keys{"images/with space.jpg",   "images/plus+sign.jpg",
                                        "images/$&,:=@.jpg",       "images/tilde~.jpg",
                                        "images/ሴunicode é.jpg",   "images/a..b.jpg",
                                        "images/semi;colon(1).jpg"};
    for (const std::string& key : keys) {
        INFO(key);
        REQUIRE(store->put(key, "content of " + key, "image/jpeg"));
        auto got = testing::read_object(*store, key);
        REQUIRE(got);
        REQUIRE(got->has_value());
        CHECK(**got == "content of " + key);
        auto info = store->head(key);
        REQUIRE(info);
        REQUIRE(info->has_value());
        CHECK((*info)->size == ("content of " + key).size());
    }
    auto outcomes = store->remove_many(keys);
    REQUIRE(outcomes);
    for (const auto& outcome : *outcomes) {
        INFO(outcome.key);
        CHECK_FALSE(outcome.error.has_value());
        CHECK_FALSE(store->head(outcome.key)->has_value());
    }
}

TEST_CASE("a wrong secret is refused with SignatureDoesNotMatch as a permanent error") {
    testing::S3rver server;
    auto options = server.options();
    options.secret_key = "not-the-secret";
    auto store = storage::make_s3_storage(options);
    auto put = store->put("images/x.jpg", "x", "image/jpeg");
    REQUIRE_FALSE(put);
    CHECK(put.error().kind == ErrorKind::storage_permanent);
    CHECK(put.error().message.find("HTTP 403 SignatureDoesNotMatch") != std::string::npos);
    CHECK(put.error().message.find("not-the-secret") == std::string::npos);
    const std::vector<std::string> keys{"images/x.jpg"};
    auto removed = store->remove_many(keys);
    REQUIRE_FALSE(removed);
    CHECK(removed.error().kind == ErrorKind::storage_permanent);
    CHECK(removed.error().message.find(
              "s3: delete batch of 1 keys: HTTP 403 SignatureDoesNotMatch") != std::string::npos);
}

TEST_CASE("a missing bucket says so") {
    testing::S3rver server;
    auto options = server.options();
    options.bucket = "no-such-bucket";
    auto store = storage::make_s3_storage(options);
    auto put = store->put("images/x.jpg", "x", "image/jpeg");
    REQUIRE_FALSE(put);
    CHECK(put.error().kind == ErrorKind::storage_permanent);
    CHECK(put.error().message.find("NoSuchBucket") != std::string::npos);
}

TEST_CASE("remove_many deletes thousands of keys over many prefixes with requests in flight") {
    testing::S3rver server;
    auto options = server.options();
    options.keys_per_delete = 250;
    options.concurrency = 4;
    auto store = storage::make_s3_storage(options);
    std::vector<std::string> keys;
    for (int i = 0; i < 1200; ++i)
        keys.push_back("images/p" + std::to_string(i % 120) + "/k" + std::to_string(i) + ".jpg");
    for (std::size_t i = 0; i < keys.size(); i += 10)
        REQUIRE(store->put(keys[i], "x", "image/jpeg"));
    // s3rver's file store can fail one of several concurrent DeleteObjects (seen once
    // under ASan in CI, as a whole-request error); the cleaner retries such a batch,
    // and so does this test, at most twice.
    auto outcomes = store->remove_many(keys);
    for (int retry = 0;
         retry < 2 && !outcomes && outcomes.error().kind == ErrorKind::storage_transient; ++retry) {
        WARN("retrying after: " << outcomes.error().message);
        outcomes = store->remove_many(keys);
    }
    INFO((outcomes ? std::string("ok") : outcomes.error().message));
    REQUIRE(outcomes);
    REQUIRE(outcomes->size() == keys.size());
    for (const auto& outcome : *outcomes) CHECK_FALSE(outcome.error.has_value());
    for (std::size_t i = 0; i < keys.size(); i += 10)
        CHECK_FALSE(store->head(keys[i])->has_value());
}
