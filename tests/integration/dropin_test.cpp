// Drop-in for the original's own clients (its React front end on another origin,
// its desktop bulk uploader, scripts): what they can notice, over a real socket.

#include "gallery/db/statement.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/api_server.hpp"

using namespace gallery;
using nlohmann::json;

namespace {

const std::string k_front_origin = "http://127.0.0.1:5173";

json ok_json(const httplib::Result& result, int status = 200) {
    REQUIRE(result);
    INFO("status " << result->status << " body " << result->body);
    REQUIRE(result->status == status);
    return json::parse(result->body);
}

json upload(httplib::Client& client, const std::string& client_id,
            const std::vector<std::pair<std::string, std::string>>& fields = {}) {
    httplib::MultipartFormDataItems items{
        {"image", testing::fake_image(".png"), "photo.png", "image/png"},
        {"client_id", client_id, "", ""}};
    for (const auto& [name, value] : fields) items.push_back({name, value, "", ""});
    return ok_json(client.Post("/api/upload/", items), 201);
}

std::size_t header_count(const httplib::Result& result, const std::string& name) {
    return result->get_header_value_count(name);
}

std::int64_t image_rows(testing::ApiServer& server) {
    auto connection = server.pool().acquire();
    return db::query_int64((*connection), "SELECT COUNT(*) FROM images");
}

}  // namespace

TEST_CASE("a preflight from a configured origin is a 200 with each CORS header once") {
    testing::ApiServer server([](config::Config& c) { c.cors_origins = {k_front_origin}; });
    httplib::Client browser("127.0.0.1", server.port());
    for (const char* path : {"/api/upload/", "/api/delete/12/", "/api/clients/a/delete-all/"}) {
        INFO(path);
        auto preflight = browser.Options(path, {{"Origin", k_front_origin},
                                                {"Access-Control-Request-Method", "DELETE"},
                                                {"Access-Control-Request-Headers", "x-api-key"}});
        REQUIRE(preflight);
        CHECK(preflight->status == 200);
        CHECK(preflight->body.empty());
        for (const char* header :
             {"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
              "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
              "Access-Control-Max-Age", "Vary"}) {
            INFO(header);
            CHECK(header_count(preflight, header) == 1);
        }
        CHECK(preflight->get_header_value("Access-Control-Allow-Origin") == k_front_origin);
        CHECK(preflight->get_header_value("Access-Control-Allow-Credentials") == "true");
        CHECK(preflight->get_header_value("Access-Control-Allow-Methods") ==
              "DELETE, GET, OPTIONS, PATCH, POST, PUT");
        CHECK(preflight->get_header_value("Access-Control-Allow-Headers") ==
              "accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with, "
              "x-api-key");
        CHECK(preflight->get_header_value("Access-Control-Max-Age") == "86400");
        CHECK(preflight->get_header_value("Vary") == "Origin");
    }
}

TEST_CASE("answers to a configured origin carry one Allow-Origin, refusals included") {
    testing::ApiServer server([](config::Config& c) { c.cors_origins = {k_front_origin}; });
    auto client = server.client();
    httplib::Client anonymous("127.0.0.1", server.port());
    std::vector<httplib::Result> answers;
    answers.push_back(client.Get("/api/list/", {{"Origin", k_front_origin}}));
    answers.push_back(anonymous.Get("/api/stats/", {{"Origin", k_front_origin}}));
    answers.push_back(client.Delete("/api/delete/999/", {{"Origin", k_front_origin}}));
    for (const httplib::Result& result : answers) {
        REQUIRE(result);
        INFO("status " << result->status);
        CHECK(header_count(result, "Access-Control-Allow-Origin") == 1);
        CHECK(header_count(result, "Access-Control-Allow-Credentials") == 1);
        CHECK(header_count(result, "Vary") == 1);
        CHECK(result->get_header_value("Access-Control-Allow-Origin") == k_front_origin);
        CHECK_FALSE(result->has_header("Access-Control-Allow-Methods"));
    }
}

TEST_CASE("an origin that is not configured gets no CORS headers and changes nothing") {
    testing::ApiServer server([](config::Config& c) { c.cors_origins = {k_front_origin}; });
    auto client = server.client();
    httplib::Client browser("127.0.0.1", server.port());
    auto preflight = browser.Options("/api/upload/", {{"Origin", "http://127.0.0.1:5174"},
                                                      {"Access-Control-Request-Method", "POST"}});
    REQUIRE(preflight);
    CHECK(preflight->status == 200);
    CHECK(preflight->get_header_value("Vary") == "Origin");
    for (const char* header : {"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
                               "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"}) {
        CHECK_FALSE(preflight->has_header(header));
    }
    auto list = client.Get("/api/list/", {{"Origin", "http://evil.example"}});
    REQUIRE(list);
    CHECK_FALSE(list->has_header("Access-Control-Allow-Origin"));
    // The admin pages sign in with a cookie: no origin may read them, configured or not.
    auto admin = browser.Get("/admin/login", {{"Origin", k_front_origin}});
    REQUIRE(admin);
    CHECK_FALSE(admin->has_header("Access-Control-Allow-Origin"));
    // A plain OPTIONS (no preflight) names the path's methods.
    auto options = browser.Options("/api/update/3/");
    REQUIRE(options);
    CHECK(options->status == 200);
    CHECK(options->get_header_value("Allow") == "OPTIONS, PUT, PATCH");
}

TEST_CASE("fields sent empty stay empty strings and absent fields stay null") {
    testing::ApiServer server;
    auto client = server.client();
    const json empty = upload(client, "shop", {{"name", ""}, {"description", ""}});
    CHECK(empty["name"] == "");
    CHECK(empty["description"] == "");
    const json absent = upload(client, "shop");
    CHECK(absent["name"].is_null());
    CHECK(absent["description"].is_null());
    const json listed = ok_json(client.Get("/api/list/?sort_by=uploaded_at"));
    REQUIRE(listed["images"].size() == 2);
    CHECK(listed["images"][0]["name"] == "");
    CHECK(listed["images"][0]["description"] == "");
    CHECK(listed["images"][1]["name"].is_null());
    CHECK(listed["filters"] == json{{"client_id", ""}, {"search", ""}, {"sort_by", "uploaded_at"}});
    const json clients = ok_json(client.Get("/api/clients/"));
    CHECK(clients["filters"] == json{{"search", ""}, {"sort_by", "-count"}});

    const std::string path = "/api/update/" + std::to_string(absent["id"].get<int>()) + "/";
    const json updated =
        ok_json(client.Put(path, R"({"name": "", "description": null})", "application/json"));
    CHECK(updated["name"] == "");
    CHECK(updated["description"].is_null());
    auto connection = server.pool().acquire();
    CHECK(db::query_int64((*connection),
                          "SELECT COUNT(*) FROM images WHERE name = '' AND name IS NOT NULL") == 2);
}

TEST_CASE("validate-client refusals say valid: false, as the original's") {
    testing::ApiServer server;
    auto client = server.client();
    for (const char* body : {R"({})", R"({"client_id": ""})", R"({"client_id": "   "})",
                             R"({"client_id": 5})", "{not json"}) {
        INFO(body);
        auto result = client.Post("/api/validate-client/", body, "application/json");
        REQUIRE(result);
        CHECK(result->status == 400);
        const json answer = json::parse(result->body);
        CHECK(answer["success"] == false);
        CHECK(answer["valid"] == false);
        CHECK(answer["error"].is_string());
    }
    const json missing = json::parse(
        client.Post("/api/validate-client/", R"({"client_id": " "})", "application/json")->body);
    CHECK(missing["error"] == "client_id is required");
}

TEST_CASE("bulk-delete takes integer strings as the original's int() does", "[threads]") {
    testing::ApiServer server;
    auto client = server.client();
    const int a = upload(client, "c")["id"];
    const int b = upload(client, "c")["id"];
    const int c = upload(client, "c")["id"];
    for (const char* bad :
         {R"([true])", R"([1.5])", R"([2.0])", R"(["1.0"])", R"(["x"])", R"([""])", R"(["+-1"])",
          R"(["1 2"])", R"(["99999999999999999999"])", R"([null])", R"([[1]])"}) {
        INFO(bad);
        auto result = client.Post("/api/bulk-delete/", std::string(R"({"image_ids": )") + bad + "}",
                                  "application/json");
        REQUIRE(result);
        CHECK(result->status == 400);
        CHECK(json::parse(result->body)["error"] == "All image_ids must be valid integers.");
    }
    CHECK(image_rows(server) == 3);
    const json body{
        {"image_ids", {std::to_string(a), " +" + std::to_string(b) + "\n", c, "-4", "777"}}};
    const json deleted = ok_json(client.Post("/api/bulk-delete/", body.dump(), "application/json"));
    CHECK(deleted["deleted_count"] == 3);
    CHECK(deleted["requested_count"] == 5);
    CHECK(deleted["not_found_ids"] == json{-4, 777});
    CHECK(image_rows(server) == 0);
}

TEST_CASE("an image id is never given again, so a stale delete by id touches nothing") {
    testing::ApiServer server;
    auto client = server.client();
    const json first = upload(client, "c");
    const int stale = first["id"];
    ok_json(client.Delete("/api/delete/" + std::to_string(stale) + "/"));
    const json second = upload(client, "c");
    CHECK(second["id"].get<int>() > stale);
    // A client that still shows the first image deletes or edits by its id.
    const std::string stale_path = std::to_string(stale) + "/";
    auto deleted = client.Delete("/api/delete/" + stale_path);
    REQUIRE(deleted);
    CHECK(deleted->status == 404);
    CHECK(json::parse(deleted->body)["error"] ==
          "Image with id " + std::to_string(stale) + " not found.");
    auto edited = client.Put("/api/update/" + stale_path, R"({"name": "x"})", "application/json");
    REQUIRE(edited);
    CHECK(edited->status == 404);
    const json listed = ok_json(client.Get("/api/list/"));
    REQUIRE(listed["images"].size() == 1);
    CHECK(listed["images"][0]["id"] == second["id"]);
    CHECK(listed["images"][0]["name"].is_null());
    CHECK(std::filesystem::exists(server.dir().media_root() / "images" /
                                  second["filename"].get<std::string>()));
}

TEST_CASE("image URLs use the original's bare-host public URL with https://") {
    testing::ApiServer server([](config::Config& c) {
        config::Sources sources;
        sources.flags = {{"db", c.db_path.string()},
                         {"media_root", c.media_root.string()},
                         {"public_url", "pub-0123abcd.r2.dev/"}};
        c = config::resolve(sources);
    });
    auto client = server.client();
    const json image = upload(client, "c");
    CHECK(image["url"] ==
          "https://pub-0123abcd.r2.dev/images/" + image["filename"].get<std::string>());
}

TEST_CASE("/media/ URLs are absolute under base_url or a trusted proxy's forwarded origin",
          "[postgresql]") {
    SECTION("base_url") {
        testing::ApiServer server(
            [](config::Config& c) { c.base_url = "https://api.example.com/gallery"; });
        auto client = server.client();
        const json image = upload(client, "c");
        const std::string expected =
            "https://api.example.com/gallery/media/images/" + image["filename"].get<std::string>();
        CHECK(image["url"] == expected);
        CHECK(ok_json(client.Get("/api/list/"))["images"][0]["url"] == expected);
    }
    SECTION("a trusted proxy's X-Forwarded-Host and -Proto, and nobody else's") {
        testing::ApiServer server([](config::Config& c) { c.trusted_proxies = {"127.0.0.1"}; });
        auto client = server.client();
        const json image = upload(client, "c");
        const std::string key = "images/" + image["filename"].get<std::string>();
        // Straight to gallery (no forwarded headers): the Host it was asked by.
        CHECK(image["url"] ==
              "http://127.0.0.1:" + std::to_string(server.port()) + "/media/" + key);
        const json proxied =
            ok_json(client.Get("/api/list/", {{"X-Forwarded-Host", "photos.example.org"},
                                              {"X-Forwarded-Proto", "https"}}));
        CHECK(proxied["images"][0]["url"] == "https://photos.example.org/media/" + key);
        // A host that is not a host name is ignored: the URL stays relative.
        const json odd = ok_json(client.Get(
            "/api/list/", {{"X-Forwarded-Host", "evil.example/x?"}, {"Host", "bad host"}}));
        CHECK(odd["images"][0]["url"] == "/media/" + key);
    }
    SECTION("an untrusted peer's forwarded headers change nothing") {
        testing::ApiServer server;
        auto client = server.client();
        upload(client, "c");
        const json listed =
            ok_json(client.Get("/api/list/", {{"X-Forwarded-Host", "photos.example.org"}}));
        CHECK(listed["images"][0]["url"].get<std::string>().starts_with("/media/images/"));
    }
}
