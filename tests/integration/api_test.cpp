// Every endpoint of shared/API.md over a real socket, a real SQLite file and real files.

#include "gallery/db/statement.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "gallery/catalog/image_format.hpp"
#include "support/api_server.hpp"
#include "support/fixtures.hpp"
#include "support/raw_http.hpp"

#include <fstream>

using namespace gallery;
using nlohmann::json;
using testing::upload;

namespace {

json body_of(const httplib::Result& result) {
    REQUIRE(result);
    INFO("status " << result->status << " body " << result->body);
    REQUIRE(result->get_header_value("Content-Type") == "application/json");
    return json::parse(result->body);
}

void check_failure(const httplib::Result& result, int status, const std::string& error) {
    REQUIRE(result);
    INFO("body " << result->body);
    CHECK(result->status == status);
    const json body = body_of(result);
    CHECK(body["success"] == false);
    CHECK(body["error"] == error);
}

json upload_ok(httplib::Client& client, const std::string& client_id, const std::string& name = "",
               const std::string& extension = ".jpg") {
    auto result =
        upload(client, "photo" + extension, testing::fake_image(extension), client_id, name);
    REQUIRE(result);
    INFO(result->body);
    REQUIRE(result->status == 201);
    return json::parse(result->body);
}

std::int64_t count_rows(testing::ApiServer& server, const std::string& table) {
    auto connection = server.pool().acquire();
    return db::query_int64((*connection), "SELECT COUNT(*) FROM " + table);
}

std::size_t files_in_media(const testing::ApiServer& server) {
    const auto folder = server.dir().media_root() / "images";
    if (!std::filesystem::exists(folder)) return 0;
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(folder), {}));
}

}  // namespace

TEST_CASE("every /api/ request needs the right X-API-Key", "[postgresql]") {
    testing::ApiServer server;
    httplib::Client anonymous("127.0.0.1", server.port());
    check_failure(anonymous.Get("/api/list/"), 401,
                  "API key is required. Please provide X-API-Key header.");
    anonymous.set_default_headers({{"X-API-Key", "wrong-key-wrong-key-wrong"}});
    check_failure(anonymous.Get("/api/list/"), 401, "Invalid API key. Access denied.");
    check_failure(anonymous.Delete("/api/delete/1/"), 401, "Invalid API key. Access denied.");
    auto client = server.client();
    CHECK(client.Get("/api/list/")->status == 200);
    httplib::Client plain("127.0.0.1", server.port());
    auto health = plain.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
}

TEST_CASE("upload stores the object and its row and answers API.md's fields", "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    const json image = upload_ok(client, "Shop-1", "Front door");
    CHECK(image["success"] == true);
    CHECK(image["id"].is_number_integer());
    CHECK(image["filename"].get<std::string>().size() == 36 + 4);
    CHECK(image["filename"].get<std::string>().ends_with(".jpg"));
    CHECK(image["url"] == "/media/images/" + image["filename"].get<std::string>());
    CHECK(image["original_filename"] == "photo.jpg");
    CHECK(image["client_id"] == "Shop-1");
    CHECK(image["name"] == "Front door");
    CHECK(image["description"].is_null());
    CHECK(image["size"] == 64);
    CHECK(image["compressed"] == false);
    CHECK(image["uploaded_at"].get<std::string>().ends_with("+00:00"));
    CHECK(std::filesystem::file_size(server.dir().media_root() / "images" /
                                     image["filename"].get<std::string>()) == 64);
    // The stored object is served back under its URL.
    auto media = client.Get(image["url"].get<std::string>());
    REQUIRE(media);
    CHECK(media->status == 200);
    CHECK(media->get_header_value("Content-Type") == "image/jpeg");
    CHECK(media->body == testing::fake_image(".jpg"));
    for (const char* extension : {".jpeg", ".png", ".gif", ".webp", ".bmp", ".JPG"}) {
        auto result =
            upload(client, std::string("x") + extension,
                   testing::fake_image(gallery::catalog::lowercase_extension(extension)), "c");
        REQUIRE(result);
        CHECK(result->status == 201);
    }
}

TEST_CASE("upload refuses bad input with API.md's messages and stores nothing", "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    check_failure(
        client.Post("/api/upload/", httplib::MultipartFormDataItems{{"client_id", "c", "", ""}}),
        400, "No image file provided. Please send a file with key \"image\".");
    check_failure(upload(client, "a.jpg", testing::fake_image(".jpg"), ""), 400,
                  "client_id is required");
    check_failure(upload(client, "a.jpg", testing::fake_image(".jpg"), "   "), 400,
                  "client_id is required");
    check_failure(upload(client, "a.tiff", "II*\0", "c"), 400,
                  "Invalid file type. Allowed: .jpg, .jpeg, .png, .gif, .webp, .bmp");
    check_failure(upload(client, "noextension", "x", "c"), 400,
                  "Invalid file type. Allowed: .jpg, .jpeg, .png, .gif, .webp, .bmp");
    check_failure(upload(client, "a.jpg", "this is just text, not a JPEG", "c"), 400,
                  "The file's content is not a JPEG image, as its .jpg extension says.");
    check_failure(upload(client, "a.png", testing::fake_image(".jpg"), "c"), 400,
                  "The file's content is not a PNG image, as its .png extension says.");
    check_failure(upload(client, "a.jpg", testing::fake_image(".jpg"), "c", "bad \xff\xfe utf-8"),
                  400, "name must be valid UTF-8 text.");
    check_failure(upload(client, "a.jpg", testing::fake_image(".jpg"), std::string(300, 'c')), 400,
                  "client_id must be at most 255 bytes long.");
    auto no_boundary = client.Post("/api/upload/", "--x\r\n", "multipart/form-data");
    REQUIRE(no_boundary);
    CHECK(no_boundary->status == 400);
    CHECK(body_of(no_boundary)["success"] == false);
    CHECK(count_rows(server, "images") == 0);
    CHECK(files_in_media(server) == 0);
}

TEST_CASE("an upload over the body limit is a JSON 413 and stores nothing", "[postgresql]") {
    testing::ApiServer server({}, 1024 * 1024);
    // Answered from the declared length, before the body is sent (and the connection
    // closed, so the unread body is never taken for a request).
    testing::RawConnection connection(server.port());
    REQUIRE(connection.send(
        "POST /api/upload/ HTTP/1.1\r\nHost: x\r\nX-API-Key: " + testing::k_test_api_key +
        "\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        "Content-Length: 2097152\r\n\r\n"));
    const std::string answer = connection.read_all(std::chrono::seconds(5));
    CHECK(answer.starts_with("HTTP/1.1 413"));
    CHECK(answer.find("Connection: close") != std::string::npos);
    CHECK(answer.find(R"({"error":"Request body too large.","success":false})") !=
          std::string::npos);
    CHECK(count_rows(server, "images") == 0);
    CHECK(files_in_media(server) == 0);
}

TEST_CASE("client ids are checked against the registered list when one is configured",
          "[postgresql]") {
    httplib::Server registry;
    registry.Get("/ids", [](const httplib::Request&, httplib::Response& response) {
        response.set_content(R"({"client_ids": [" shop-1 ", "SHOP-2"]})", "application/json");
    });
    const int registry_port = registry.bind_to_any_port("127.0.0.1");
    std::thread registry_thread([&] { registry.listen_after_bind(); });
    {
        testing::ApiServer server([&](config::Config& c) {
            c.client_ids_url = "http://127.0.0.1:" + std::to_string(registry_port) + "/ids";
        });
        auto client = server.client();
        upload_ok(client, "Shop-1");
        check_failure(upload(client, "a.jpg", testing::fake_image(".jpg"), "shop-9"), 403,
                      "Invalid client ID. Client ID 'shop-9' is not registered.");
        const json valid = body_of(
            client.Post("/api/validate-client/", R"({"client_id": "shop-2"})", "application/json"));
        CHECK(valid == json{{"success", true}, {"valid", true}, {"message", "Client ID is valid"}});
        const json invalid = body_of(
            client.Post("/api/validate-client/", R"({"client_id": "nope"})", "application/json"));
        CHECK(invalid["success"] == true);
        CHECK(invalid["valid"] == false);
        CHECK(invalid["error"].is_string());
    }
    registry.stop();
    registry_thread.join();
}

TEST_CASE("validate-client accepts every id without a list and needs a client_id", "[postgresql]") {
    testing::ApiServer server(
        [](config::Config& c) { c.client_ids_url = "http://127.0.0.1:1/unreachable"; });
    auto client = server.client();
    const json valid = body_of(
        client.Post("/api/validate-client/", R"({"client_id": "anyone"})", "application/json"));
    CHECK(valid["valid"] == true);
    check_failure(client.Post("/api/validate-client/", R"({})", "application/json"), 400,
                  "client_id is required");
    check_failure(client.Post("/api/validate-client/", R"({"client_id": 5})", "application/json"),
                  400, "client_id is required");
    check_failure(client.Post("/api/validate-client/", "{not json", "application/json"), 400,
                  "Invalid JSON in request body.");
}

TEST_CASE("list filters searches sorts and paginates", "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    upload_ok(client, "alpha", "Red car");
    upload_ok(client, "ALPHA", "blue boat");
    upload_ok(client, "beta", "green 100%_real");
    const json all = body_of(client.Get("/api/list/"));
    CHECK(all["success"] == true);
    CHECK(all["images"].size() == 3);
    CHECK(all["images"][0]["name"] == "green 100%_real");  // newest first by default
    CHECK(all["pagination"] == json{{"page", 1},
                                    {"page_size", 20},
                                    {"total_count", 3},
                                    {"total_pages", 1},
                                    {"has_next", false},
                                    {"has_previous", false}});
    CHECK(all["filters"] == json{{"client_id", ""}, {"search", ""}, {"sort_by", "-uploaded_at"}});
    CHECK(body_of(client.Get("/api/list/?client_id=Alpha"))["images"].size() == 2);
    CHECK(body_of(client.Get("/api/list?search=BOAT"))["images"].size() == 1);
    CHECK(body_of(client.Get("/api/list/?search=100%25_"))["images"].size() == 1);
    CHECK(body_of(client.Get("/api/list/?search=0%25x"))["images"].empty());  // % matches literally
    const json by_name = body_of(client.Get("/api/list/?sort_by=name"));
    CHECK(by_name["images"][0]["name"] == "Red car");
    CHECK(by_name["filters"]["sort_by"] == "name");
    // An order it does not know: the default order, echoed as sent (as the original).
    const json unknown = body_of(client.Get("/api/list/?sort_by=password;DROP"));
    CHECK(unknown["filters"]["sort_by"] == "password;DROP");
    CHECK(unknown["images"][0]["id"] == all["images"][0]["id"]);
    CHECK(body_of(client.Get("/api/clients/?sort_by=bogus"))["filters"]["sort_by"] == "bogus");
    const json page2 = body_of(client.Get("/api/list/?page=2&page_size=2"));
    CHECK(page2["images"].size() == 1);
    CHECK(page2["pagination"]["total_pages"] == 2);
    CHECK(page2["pagination"]["has_previous"] == true);
    CHECK(page2["pagination"]["has_next"] == false);
    const json past = body_of(client.Get("/api/list/?page=99"));
    CHECK(past["images"].empty());
    CHECK(past["pagination"]["total_count"] == 3);
    CHECK(body_of(client.Get("/api/list/?page_size=5000"))["pagination"]["page_size"] == 100);
    for (const char* bad : {"page=abc", "page=-1", "page=0", "page_size=0", "page_size=x",
                            "page=99999999999999999999", "page=1.5", "page=10000000000"}) {
        INFO(bad);
        auto result = client.Get(std::string("/api/list/?") + bad);
        REQUIRE(result);
        CHECK(result->status == 400);
        CHECK(body_of(result)["error"].get<std::string>().starts_with("Invalid parameter: "));
    }
}

TEST_CASE("update changes name description and client_id and checks its input", "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    const json image = upload_ok(client, "c1", "old");
    const std::string path = "/api/update/" + std::to_string(image["id"].get<int>()) + "/";
    const json updated = body_of(client.Put(
        path, R"({"name": "new", "description": "d", "client_id": "c2"})", "application/json"));
    CHECK(updated["success"] == true);
    CHECK(updated["name"] == "new");
    CHECK(updated["description"] == "d");
    CHECK(updated["client_id"] == "c2");
    CHECK(updated["filename"] == image["filename"]);
    CHECK(body_of(client.Put(path.substr(0, path.size() - 1), R"({"name": null})",
                             "application/json"))["name"]
              .is_null());
    check_failure(client.Put("/api/update/999999/", R"({"name": "x"})", "application/json"), 404,
                  "Image with id 999999 not found.");
    check_failure(client.Put(path, "{broken", "application/json"), 400,
                  "Invalid JSON in request body.");
    check_failure(client.Put(path, "[1, 2]", "application/json"), 400,
                  "Invalid JSON in request body.");
    check_failure(client.Put(path, R"({"name": 5})", "application/json"), 400,
                  "name must be a string or null.");
    check_failure(client.Put(path, R"({"client_id": ""})", "application/json"), 400,
                  "client_id is required");
    CHECK(body_of(client.Get("/api/list/"))["images"][0]["description"] == "d");
}

TEST_CASE("delete removes the row and queues the file without touching storage", "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    const json image = upload_ok(client, "c1");
    const auto file = server.dir().media_root() / "images" / image["filename"].get<std::string>();
    const int id = image["id"];
    const json deleted = body_of(client.Delete("/api/delete/" + std::to_string(id) + "/"));
    CHECK(deleted == json{{"success", true},
                          {"message", "Image " + std::to_string(id) + " deleted successfully."}});
    CHECK(std::filesystem::exists(file));  // still there: cleanup removes it later
    CHECK(count_rows(server, "images") == 0);
    CHECK(count_rows(server, "deletion_queue") == 1);
    check_failure(client.Delete("/api/delete/" + std::to_string(id)), 404,
                  "Image with id " + std::to_string(id) + " not found.");
    check_failure(client.Delete("/api/delete/abc/"), 404, "Image with id abc not found.");
}

TEST_CASE("bulk-delete deletes what exists and reports the ids it did not find",
          "[threads][postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    const int a = upload_ok(client, "c")["id"], b = upload_ok(client, "c")["id"];
    upload_ok(client, "c");
    const json out = body_of(client.Post(
        "/api/bulk-delete/", json{{"image_ids", {a, b, 424242}}}.dump(), "application/json"));
    CHECK(out["success"] == true);
    CHECK(out["deleted_count"] == 2);
    CHECK(out["requested_count"] == 3);
    CHECK(out["not_found_ids"] == json::array({424242}));
    CHECK(out["message"].is_string());
    const json all_found = body_of(
        client.Post("/api/bulk-delete", json{{"image_ids", {a}}}.dump(), "application/json"));
    CHECK(all_found["deleted_count"] == 0);
    CHECK(count_rows(server, "images") == 1);
    CHECK(count_rows(server, "deletion_queue") == 2);
}

TEST_CASE("bulk-delete refuses malformed input and changes nothing", "[threads][postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    const int a = upload_ok(client, "c")["id"];
    const std::string shape = "image_ids must be a non-empty array of integers.";
    const std::string integers = "All image_ids must be valid integers.";
    check_failure(client.Post("/api/bulk-delete/", "{}", "application/json"), 400, shape);
    check_failure(client.Post("/api/bulk-delete/", R"({"image_ids": []})", "application/json"), 400,
                  shape);
    check_failure(client.Post("/api/bulk-delete/", R"({"image_ids": "1,2"})", "application/json"),
                  400, shape);
    check_failure(
        client.Post("/api/bulk-delete/", json{{"image_ids", {a, "x"}}}.dump(), "application/json"),
        400, integers);
    check_failure(
        client.Post("/api/bulk-delete/", json{{"image_ids", {a, 1.5}}}.dump(), "application/json"),
        400, integers);
    check_failure(
        client.Post("/api/bulk-delete/", json{{"image_ids", {a, true}}}.dump(), "application/json"),
        400, integers);
    check_failure(client.Post("/api/bulk-delete/", json{{"image_ids", {a, nullptr}}}.dump(),
                              "application/json"),
                  400, integers);
    check_failure(client.Post("/api/bulk-delete/", "not json", "application/json"), 400,
                  "Invalid JSON in request body.");
    std::string million = "{\"image_ids\": [";
    for (int i = 0; i < 1'000'000; ++i) million += (i ? "," : "") + std::to_string(i);
    million += "]}";
    // Parsing 1,000,000 ids took 5.02 s under ThreadSanitizer in CI, past httplib's
    // default 5 s read timeout: the answer, not its time, is what this test checks.
    client.set_read_timeout(60, 0);
    auto huge = client.Post("/api/bulk-delete/", million, "application/json");
    REQUIRE(huge);
    CHECK(huge->status == 400);
    CHECK(count_rows(server, "images") == 1);
    CHECK(count_rows(server, "deletion_queue") == 0);
}

TEST_CASE("delete-all removes a client's images case-insensitively and queues their files",
          "[threads][postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    upload_ok(client, "Shop-1");
    upload_ok(client, "SHOP-1");
    upload_ok(client, "other");
    const json out = body_of(client.Delete("/api/clients/shop-1/delete-all/"));
    CHECK(out["success"] == true);
    CHECK(out["client_id"] == "shop-1");
    CHECK(out["deleted_count"] == 2);
    CHECK(out["files_queued"] == 2);
    CHECK(out["message"].is_string());
    const json none = body_of(client.Delete("/api/clients/shop-1/delete-all"));
    CHECK(none == json{{"success", true},
                       {"deleted_count", 0},
                       {"message", "No images found for client_id: shop-1"}});
    auto traversal = client.Delete("/api/clients/..%2F..%2Fetc/delete-all/");
    REQUIRE(traversal);
    CHECK(traversal->status == 404);
    const json injection =
        body_of(client.Delete("/api/clients/x'%3B%20DROP%20TABLE%20images%3B--/delete-all/"));
    CHECK(injection["deleted_count"] == 0);
    CHECK(count_rows(server, "images") == 1);
    CHECK(files_in_media(server) == 3);
}

TEST_CASE("stats and clients summarise images per client", "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    upload_ok(client, "a");
    upload_ok(client, "a");
    upload_ok(client, "b");
    const json stats = body_of(client.Get("/api/stats/"));
    CHECK(stats["success"] == true);
    CHECK(stats["stats"]["total_images"] == 3);
    CHECK(stats["stats"]["total_size"] == 192);
    CHECK(stats["stats"]["unique_clients"] == 2);
    CHECK(stats["stats"]["by_client"][0] ==
          json{{"client_id", "a"}, {"count", 2}, {"total_size", 128}});
    const json clients = body_of(client.Get("/api/clients/"));
    CHECK(clients["clients"].size() == 2);
    const json& first = clients["clients"][0];
    CHECK(first["client_id"] == "a");
    CHECK(first["image_count"] == 2);
    CHECK(first["total_size"] == 128);
    CHECK(first["latest_upload"].is_string());
    CHECK(first["oldest_upload"].is_string());
    CHECK(clients["filters"] == json{{"search", ""}, {"sort_by", "-count"}});
    CHECK(clients["pagination"]["total_count"] == 2);
    CHECK(body_of(client.Get("/api/clients/?search=B"))["clients"][0]["client_id"] == "b");
    CHECK(body_of(client.Get("/api/clients/?sort_by=client_id"))["clients"][0]["client_id"] == "a");
    CHECK(body_of(client.Get("/api/clients/?sort_by=-client_id"))["clients"][0]["client_id"] ==
          "b");
    CHECK(client.Get("/api/clients/?page=x")->status == 400);
}

TEST_CASE("cleanup run deletes queued files and cleanup stats describes the queue",
          "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    const json empty = body_of(client.Get("/api/cleanup/stats/"));
    CHECK(empty["stats"]["total_pending"] == 0);
    CHECK(empty["stats"]["oldest_queued"].is_null());
    CHECK(empty["stats"]["by_attempts"] == json::array());
    for (int i = 0; i < 3; ++i) upload_ok(client, "c");
    body_of(client.Delete("/api/clients/c/delete-all/"));
    const json stats = body_of(client.Get("/api/cleanup/stats"));
    CHECK(stats["stats"]["total_pending"] == 3);
    CHECK(stats["stats"]["oldest_queued"].is_string());
    CHECK(stats["stats"]["by_attempts"] == json::array({{{"attempts", 0}, {"count", 3}}}));
    const json run = body_of(client.Post("/api/cleanup/run/?batch_size=2", "", "application/json"));
    CHECK(run["success"] == true);
    CHECK(run["processed"] == 2);
    CHECK(run["deleted"] == 2);
    CHECK(run["failed"] == 0);
    CHECK(run["skipped"] == 0);
    CHECK(run["remaining_in_queue"] == 1);
    CHECK(run["message"].is_string());
    CHECK(body_of(client.Post("/api/cleanup/run/", "", "application/json"))["remaining_in_queue"] ==
          0);
    CHECK(files_in_media(server) == 0);
    check_failure(client.Post("/api/cleanup/run/?batch_size=many", "", "application/json"), 400,
                  "Invalid parameter: batch_size must be an integer.");
}

TEST_CASE("routing answers 405 for a wrong method and JSON 404 for unknown paths", "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    auto wrong = client.Post("/api/list/", "{}", "application/json");
    REQUIRE(wrong);
    CHECK(wrong->status == 405);
    CHECK(wrong->get_header_value("Allow") == "GET");
    CHECK(body_of(wrong)["success"] == false);
    CHECK(client.Get("/api/delete/1/")->status == 405);
    auto unknown = client.Get("/api/nothing-here/");
    REQUIRE(unknown);
    CHECK(unknown->status == 404);
    CHECK(body_of(unknown)["success"] == false);
}

TEST_CASE("media serves stored objects with validators and ranges and never leaves the media root",
          "[postgresql]") {
    testing::ApiServer server;
    auto client = server.client();
    std::ofstream(server.dir().path() / "secret.txt") << "TOP-SECRET-CONTENT";
    const json image = upload_ok(client, "c");
    const std::string url = image["url"];
    auto full = client.Get(url);
    REQUIRE(full);
    const std::string etag = full->get_header_value("ETag");
    CHECK_FALSE(etag.empty());
    CHECK(full->has_header("Last-Modified"));
    auto not_modified = client.Get(url, {{"If-None-Match", etag}});
    REQUIRE(not_modified);
    CHECK(not_modified->status == 304);
    CHECK(not_modified->body.empty());
    auto part = client.Get(url, {{"Range", "bytes=0-3"}});
    REQUIRE(part);
    CHECK(part->status == 206);
    CHECK(part->body == testing::fake_image(".jpg").substr(0, 4));
    CHECK(part->get_header_value("Content-Range") == "bytes 0-3/64");
    // A Range header never slices a JSON answer.
    auto json_range = client.Get("/api/stats/", {{"Range", "bytes=0-3"}});
    REQUIRE(json_range);
    CHECK(json_range->status == 200);
    CHECK_NOTHROW(json::parse(json_range->body));
    for (const char* path :
         {"/media/../secret.txt", "/media/images/..%2F..%2Fsecret.txt", "/media/%2e%2e/secret.txt",
          "/media/images/", "/media/images/missing.jpg", "/media/gallery.db"}) {
        INFO(path);
        auto result = client.Get(path);
        REQUIRE(result);
        CHECK(result->status == 404);
        CHECK(result->body.find("TOP-SECRET") == std::string::npos);
    }
}
