// What an attacker would send, over a real socket: each gets a 4xx or a closed
// connection, the server keeps serving, and nothing is stored.

#include "gallery/db/statement.hpp"

#include <catch2/catch.hpp>

#include "support/api_server.hpp"

using namespace gallery;

namespace {

std::int64_t image_rows(testing::ApiServer& server) {
    auto connection = server.pool().acquire();
    return db::query_int64((*connection), "SELECT COUNT(*) FROM images");
}

void check_still_serving(testing::ApiServer& server) {
    auto health = server.client().Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
}

}  // namespace

TEST_CASE("deeply nested JSON is a 400") {
    testing::ApiServer server;
    const std::string nested = std::string(100'000, '[') + std::string(100'000, ']');
    auto client = server.client();
    auto bulk =
        client.Post("/api/bulk-delete/", "{\"image_ids\": " + nested + "}", "application/json");
    REQUIRE(bulk);
    CHECK(bulk->status == 400);
    auto update = client.Put("/api/update/1/", nested, "application/json");
    REQUIRE(update);
    CHECK(update->status / 100 == 4);
    check_still_serving(server);
}

TEST_CASE("a huge header is refused and the server goes on") {
    testing::ApiServer server;
    auto client = server.client();
    auto result = client.Get("/api/list/", {{"X-Padding", std::string(200'000, 'a')}});
    REQUIRE(result);
    CHECK(result->status == 400);
    check_still_serving(server);
}

TEST_CASE("a multipart upload with thousands of parts is refused") {
    testing::ApiServer server;
    for (int extra_parts : {100, 5000}) {
        INFO(extra_parts << " extra parts");
        httplib::MultipartFormDataItems items{
            {"image", testing::fake_image(".jpg"), "a.jpg", "image/jpeg"},
            {"client_id", "c", "", ""}};
        for (int i = 0; i < extra_parts; ++i)
            items.push_back({"f" + std::to_string(i), "x", "", ""});
        auto result = server.client().Post("/api/upload/", items);
        REQUIRE(result);
        CHECK(result->status == 400);
        // Ours below httplib's own limit; httplib's ("Malformed request.") above it.
        if (extra_parts == 100)
            CHECK(result->body.find("Too many form fields") != std::string::npos);
    }
    CHECK(image_rows(server) == 0);
    check_still_serving(server);
}

TEST_CASE("a client id carrying a header injection is refused, not echoed") {
    testing::ApiServer server;
    httplib::MultipartFormDataItems items{
        {"image", testing::fake_image(".jpg"), "a.jpg", "image/jpeg"},
        {"client_id", "shop\r\nSet-Cookie: stolen=1", "", ""}};
    auto result = server.client().Post("/api/upload/", items);
    REQUIRE(result);
    CHECK(result->status == 400);
    CHECK_FALSE(result->has_header("Set-Cookie"));
    CHECK(image_rows(server) == 0);
    auto listed = server.client().Get("/api/list/?client_id=shop%0D%0ASet-Cookie:%20x%3D1");
    REQUIRE(listed);
    CHECK_FALSE(listed->has_header("Set-Cookie"));
    check_still_serving(server);
}

TEST_CASE("a media path with a file name longer than the file system allows is a 404") {
    testing::ApiServer server;
    auto client = server.client();
    // Found by fuzz/routes: open() failed with ENAMETOOLONG and the answer was a 500.
    // (In an existing folder: the media root itself. A missing folder is an ENOENT first.)
    auto answer = client.Get("/media/" + std::string(300, 'a') + ".jpg");
    REQUIRE(answer);
    CHECK(answer->status == 404);
    CHECK(client.Get("/healthz")->status == 200);
}
