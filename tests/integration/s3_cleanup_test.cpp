// `gallery cleanup` and friends against a real S3 server, through the real binary.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/process.hpp"
#include "support/s3rver.hpp"

using namespace gallery;
using nlohmann::json;

namespace {

std::map<std::string, std::string> s3_environment(const testing::S3rver& server,
                                                  const testing::TempDir& dir) {
    return {{"GALLERY_DB", dir.db_path().string()},     {"GALLERY_STORAGE", "s3"},
            {"GALLERY_S3_ENDPOINT", server.endpoint()}, {"GALLERY_S3_BUCKET", "gallery"},
            {"GALLERY_S3_REGION", "us-east-1"},         {"GALLERY_S3_ACCESS_KEY", "S3RVER"},
            {"GALLERY_S3_SECRET_KEY", "S3RVER"}};
}

testing::ProcessResult gallery_run(std::vector<std::string> args,
                                   const std::map<std::string, std::string>& env,
                                   const std::string& input = {}) {
    args.insert(args.begin(), GALLERY_BINARY);
    return testing::run_process(args, {.environment = env, .input = input});
}

}  // namespace

TEST_CASE("cleanup deletes queued objects from S3 and drains the queue") {
    testing::S3rver server;
    testing::TempDir dir;
    auto store = storage::make_s3_storage(server.options());
    std::string keys;
    for (int i = 0; i < 300; ++i) {
        const std::string key =
            "images/p" + std::to_string(i % 30) + "/o" + std::to_string(i) + ".jpg";
        REQUIRE(store->put(key, "x", "image/jpeg"));
        keys += key + "\n";
    }
    const auto env = s3_environment(server, dir);
    REQUIRE(gallery_run({"migrate"}, env).exit_code == 0);
    REQUIRE(gallery_run({"enqueue", "-"}, env, keys).exit_code == 0);
    auto result = gallery_run({"cleanup", "--json", "--until-empty", "--batch-size", "120"}, env);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    const json report = json::parse(result.out);
    CHECK(report["deleted"] == 300);
    CHECK(report["remaining_in_queue"] == 0);
    auto listing = store->list("images/", "", 1000);
    REQUIRE(listing);
    CHECK(listing->objects.empty());
}

TEST_CASE("a wrong secret stops cleanup with exit 3 and a sentence and spends no attempts") {
    testing::S3rver server;
    testing::TempDir dir;
    auto env = s3_environment(server, dir);
    REQUIRE(gallery_run({"migrate"}, env).exit_code == 0);
    REQUIRE(gallery_run({"enqueue", "images/a.jpg", "images/b.jpg"}, env).exit_code == 0);
    env["GALLERY_S3_SECRET_KEY"] = "wrong-secret-value";
    auto result = gallery_run({"cleanup", "--until-empty"}, env);
    CHECK(result.exit_code == 3);
    // Two keys and their thumbnails' keys (the default variant).
    CHECK(result.err.find("s3: delete batch of 4 keys: HTTP 403 SignatureDoesNotMatch") !=
          std::string::npos);
    CHECK((result.out + result.err).find("wrong-secret-value") == std::string::npos);
    const json stats = json::parse(gallery_run({"stats", "--json"}, env).out);
    CHECK(stats["queue"]["pending"] == 2);
    CHECK(stats["queue"]["by_attempts"] == json::array({{{"attempts", 0}, {"count", 2}}}));

    // The operator fixes the secret: the next run deletes at once, nothing waits.
    auto store = storage::make_s3_storage(server.options());
    REQUIRE(store->put("images/a.jpg", "x", "image/jpeg"));
    REQUIRE(store->put("images/b.jpg", "x", "image/jpeg"));
    env["GALLERY_S3_SECRET_KEY"] = "S3RVER";
    auto fixed = gallery_run({"cleanup", "--json"}, env);
    INFO(fixed.out << fixed.err);
    REQUIRE(fixed.exit_code == 0);
    const json report = json::parse(fixed.out);
    CHECK(report["deleted"] == 2);
    CHECK(report["remaining_in_queue"] == 0);
    auto listing = store->list("images/", "", 10);
    REQUIRE(listing);
    CHECK(listing->objects.empty());
}

TEST_CASE("s3 storage without its settings refuses to start naming what is missing") {
    testing::TempDir dir;
    const std::map<std::string, std::string> env{{"GALLERY_DB", dir.db_path().string()},
                                                 {"CLOUDFLARE_R2_ENABLED", "true"},
                                                 {"CLOUDFLARE_R2_BUCKET", "photos"}};
    REQUIRE(gallery_run({"migrate"}, env).exit_code == 0);
    auto result = gallery_run({"cleanup"}, env);
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("storage = s3 needs s3_endpoint") != std::string::npos);
    CHECK(result.err.find("s3_bucket") == std::string::npos);  // given through CLOUDFLARE_R2_BUCKET
}
