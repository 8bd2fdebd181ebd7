// S3 without public_url (a private bucket): /media/<key> of a live image redirects to
// a presigned GET that a real S3 server (s3rver, which checks query-string
// signatures and expiry) serves; a deleted image's key is a 404 at once.
#include <httplib.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <nlohmann/json.hpp>

#include "gallery/storage/local_storage.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/s3rver.hpp"
#include "support/served.hpp"

using namespace gallery;
using nlohmann::json;

namespace {

const std::string k_key = "presigned-test-key-0123456789";

// GET of an absolute http:// URL (what a browser does with the Location).
httplib::Result fetch(const std::string& url) {
    const std::string rest = url.substr(std::string("http://").size());
    const std::size_t slash = rest.find('/');
    httplib::Client client("http://" + rest.substr(0, slash));
    return client.Get(rest.substr(slash));
}

struct PrivateBucketServer {
    PrivateBucketServer() {
        env = {{"GALLERY_DB", dir.db_path().string()}, {"GALLERY_STORAGE", "s3"},
               {"GALLERY_S3_ENDPOINT", s3.endpoint()}, {"GALLERY_S3_BUCKET", "gallery"},
               {"GALLERY_S3_REGION", "us-east-1"},     {"GALLERY_S3_ACCESS_KEY", "S3RVER"},
               {"GALLERY_S3_SECRET_KEY", "S3RVER"},    {"GALLERY_API_KEY", k_key}};
        REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code ==
                0);
        served = testing::start_serve(env, dir.path() / "serve.out");
    }
    ~PrivateBucketServer() {
        ::kill(served.pid, SIGTERM);
        testing::wait_process(served.pid);
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", served.port);
        c.set_default_headers({{"X-API-Key", k_key}});
        return c;
    }

    testing::S3rver s3;
    testing::TempDir dir;
    std::map<std::string, std::string> env;
    testing::ServedProcess served;
};

}  // namespace

TEST_CASE("a private bucket's image URL redirects to a presigned GET until the image is deleted") {
    PrivateBucketServer server;
    auto client = server.client();
    const std::string bytes = "\xff\xd8\xff\xe0 a small jpeg body";
    auto uploaded = testing::upload(client, "photo.jpg", bytes, "c");
    REQUIRE(uploaded);
    REQUIRE(uploaded->status == 201);
    const json image = json::parse(uploaded->body);
    // The answer carries the presigned URL itself, as the original did on a private
    // bucket: a browser on any origin loads it without asking gallery.
    const std::string presigned = image["url"];
    INFO(presigned);
    CHECK(presigned.starts_with(server.s3.endpoint() + "/gallery/images/"));
    CHECK(presigned.find("X-Amz-Expires=3600") != std::string::npos);
    auto direct = fetch(presigned);
    REQUIRE(direct);
    CHECK(direct->status == 200);
    CHECK(direct->body == bytes);
    // The list gives the same URL for half its validity (browsers cache it).
    auto listed = client.Get("/api/list/");
    REQUIRE(listed);
    CHECK(json::parse(listed->body)["images"][0]["url"] == presigned);

    // gallery's own /media/<key> stays a stable link: a redirect to a fresh presigned GET.
    const std::string url = "/media/images/" + image["filename"].get<std::string>();
    auto redirect = client.Get(url);  // httplib does not follow redirects unless told
    REQUIRE(redirect);
    REQUIRE(redirect->status == 302);
    CHECK(redirect->get_header_value("Cache-Control") == "no-store");
    const std::string location = redirect->get_header_value("Location");
    INFO(location);
    CHECK(location.starts_with(server.s3.endpoint() + "/gallery/images/"));
    CHECK(location.find("X-Amz-Signature=") != std::string::npos);
    // httplib's client decodes a Location header's %XX, so the credential shows '/'.
    CHECK(location.find("X-Amz-Credential=S3RVER/") != std::string::npos);
    auto object = fetch(location);
    REQUIRE(object);
    CHECK(object->status == 200);
    CHECK(object->body == bytes);
    // The same URL for half its validity: a browser's cache keeps working.
    auto again = client.Get(url);
    REQUIRE(again);
    CHECK(again->get_header_value("Location") == location);

    // A changed signature is refused by the bucket: the URL is what grants access.
    std::string forged = location;
    forged.back() = forged.back() == '0' ? '1' : '0';
    auto refused = fetch(forged);
    REQUIRE(refused);
    CHECK(refused->status == 403);

    auto deleted = client.Delete("/api/delete/" + std::to_string(image["id"].get<int>()) + "/");
    REQUIRE(deleted);
    REQUIRE(deleted->status == 200);
    auto gone = client.Get(url);
    REQUIRE(gone);
    CHECK(gone->status == 404);
    // No cleanup has run: the object is still in the bucket, and only gallery stops
    // handing out URLs for it.
    auto store = storage::make_s3_storage(server.s3.options());
    auto head = store->head("images/" + image["filename"].get<std::string>());
    REQUIRE(head);
    CHECK(head->has_value());
    auto unknown = client.Get("/media/images/never-uploaded.jpg");
    REQUIRE(unknown);
    CHECK(unknown->status == 404);
}

TEST_CASE("a presigned URL stops working when it expires") {
    testing::S3rver s3;
    auto store = storage::make_s3_storage(s3.options());
    REQUIRE(store->put("images/expiring.jpg", "bytes", "image/jpeg"));
    const long long now = static_cast<long long>(std::time(nullptr));
    const auto valid = store->presigned_get("images/expiring.jpg", now, std::chrono::seconds{60});
    REQUIRE(valid);
    auto served = fetch(*valid);
    REQUIRE(served);
    CHECK(served->status == 200);
    CHECK(served->body == "bytes");
    // Signed 30 s ago for 10 s: expired 20 s ago.
    const auto expired =
        store->presigned_get("images/expiring.jpg", now - 30, std::chrono::seconds{10});
    REQUIRE(expired);
    auto refused = fetch(*expired);
    REQUIRE(refused);
    CHECK(refused->status == 403);
    CHECK(refused->body.find("expired") != std::string::npos);
}

TEST_CASE("local storage has no presigned URLs") {
    testing::TempDir dir;
    auto store = storage::make_local_storage(dir.media_root());
    CHECK_FALSE(store->presigned_get("images/a.jpg", 0, std::chrono::seconds{60}).has_value());
}
