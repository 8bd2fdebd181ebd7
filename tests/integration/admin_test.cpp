// The admin pages' defences over a real socket: sign-in limits, CSRF and origin
// checks, escaping of hostile data. (tests/browser drives the pages in Chromium.)

#include <catch2/catch.hpp>
#include <thread>

#include "support/api_server.hpp"

using namespace gallery;

namespace {

// Signs in with the API key; returns the session cookie ("gallery_admin=...").
std::string sign_in(const testing::ApiServer& server) {
    httplib::Client client("127.0.0.1", server.port());
    auto result = client.Post("/admin/login", "password=" + testing::k_test_api_key,
                              "application/x-www-form-urlencoded");
    REQUIRE(result);
    REQUIRE(result->status == 303);
    const std::string cookie = result->get_header_value("Set-Cookie");
    REQUIRE(cookie.find("HttpOnly") != std::string::npos);
    REQUIRE(cookie.find("SameSite=Strict") != std::string::npos);
    return cookie.substr(0, cookie.find(';'));
}

// The CSRF token a page's forms carry.
std::string csrf_token(const std::string& html) {
    const std::string marker = "name=\"csrf\" value=\"";
    const auto start = html.find(marker);
    REQUIRE(start != std::string::npos);
    return html.substr(start + marker.size(), 64);
}

}  // namespace

TEST_CASE("parallel guesses buy no extra password checks and cannot hold every worker",
          "[threads][postgresql]") {
    testing::ApiServer server;
    std::vector<int> statuses(40);
    std::vector<std::thread> guessers;
    const auto started = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < statuses.size(); ++i) {
        guessers.emplace_back([&, i] {
            httplib::Client client("127.0.0.1", server.port());
            auto result =
                client.Post("/admin/login", "password=guess", "application/x-www-form-urlencoded");
            statuses[i] = result ? result->status : -1;
        });
    }
    for (auto& guesser : guessers) guesser.join();
    // One address: its burst of 3 checks plus one per second the burst took (the
    // address refills at 1/s; under ThreadSanitizer the 40 requests take seconds), the
    // rest refused before any comparison.
    const auto elapsed = std::chrono::steady_clock::now() - started;
    const auto refilled = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
    const auto checked = std::count(statuses.begin(), statuses.end(), 401);
    CHECK(checked <= 3 + refilled);
    // Every guess was answered (none left waiting on a worker: 4 serve 40).
    CHECK(std::count(statuses.begin(), statuses.end(), 429) == 40 - checked);
    // That a refused request is never checked, the right password included, is
    // tests/unit/sign_in_throttle_test.cpp's (on a clock it sets).
    // Once the flood stops, a check is available again.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    CHECK_FALSE(sign_in(server).empty());
}

TEST_CASE("the password and the CSRF token count only in a POST body, never in the URL",
          "[postgresql]") {
    testing::ApiServer server;
    httplib::Client client("127.0.0.1", server.port());
    auto in_url = client.Post("/admin/login?password=" + testing::k_test_api_key, "",
                              "application/x-www-form-urlencoded");
    REQUIRE(in_url);
    CHECK(in_url->status == 401);
    auto other_site =
        client.Post("/admin/login", {{"Origin", "https://evil.example"}},
                    "password=" + testing::k_test_api_key, "application/x-www-form-urlencoded");
    REQUIRE(other_site);
    CHECK(other_site->status == 403);
    CHECK_FALSE(other_site->has_header("Set-Cookie"));
    const std::string cookie = sign_in(server);
    auto queue = client.Get("/admin/queue", {{"Cookie", cookie}});
    REQUIRE(queue);
    const std::string csrf = csrf_token(queue->body);
    auto csrf_in_url = client.Post("/admin/queue/run?csrf=" + csrf, {{"Cookie", cookie}}, "",
                                   "application/x-www-form-urlencoded");
    REQUIRE(csrf_in_url);
    CHECK(csrf_in_url->status == 403);
}

TEST_CASE("the session cookie is Secure when a trusted proxy says the request came over HTTPS",
          "[postgresql]") {
    testing::ApiServer server([](config::Config& c) { c.trusted_proxies = {"127.0.0.1"}; });
    httplib::Client client("127.0.0.1", server.port());
    auto over_https =
        client.Post("/admin/login", {{"X-Forwarded-Proto", "https"}},
                    "password=" + testing::k_test_api_key, "application/x-www-form-urlencoded");
    REQUIRE(over_https);
    REQUIRE(over_https->status == 303);
    CHECK(over_https->get_header_value("Set-Cookie").find("; Secure") != std::string::npos);
    testing::ApiServer untrusting;
    httplib::Client direct("127.0.0.1", untrusting.port());
    auto claimed =
        direct.Post("/admin/login", {{"X-Forwarded-Proto", "https"}},
                    "password=" + testing::k_test_api_key, "application/x-www-form-urlencoded");
    REQUIRE(claimed);
    REQUIRE(claimed->status == 303);
    CHECK(claimed->get_header_value("Set-Cookie").find("Secure") == std::string::npos);
}

TEST_CASE("admin actions need the session's CSRF token and a same-origin page", "[postgresql]") {
    testing::ApiServer server;
    const std::string cookie = sign_in(server);
    httplib::Client client("127.0.0.1", server.port());
    auto queue = client.Get("/admin/queue", {{"Cookie", cookie}});
    REQUIRE(queue);
    REQUIRE(queue->status == 200);
    const std::string token = csrf_token(queue->body);

    auto no_token = client.Post("/admin/queue/run", {{"Cookie", cookie}}, "",
                                "application/x-www-form-urlencoded");
    CHECK(no_token->status == 403);
    auto other_site =
        client.Post("/admin/queue/run", {{"Cookie", cookie}, {"Origin", "https://evil.example"}},
                    "csrf=" + token, "application/x-www-form-urlencoded");
    CHECK(other_site->status == 403);
    auto good = client.Post("/admin/queue/run", {{"Cookie", cookie}}, "csrf=" + token,
                            "application/x-www-form-urlencoded");
    CHECK(good->status == 303);
    // Signed out, the same cookie and token are worth nothing.
    client.Post("/admin/logout", {{"Cookie", cookie}}, "csrf=" + token,
                "application/x-www-form-urlencoded");
    auto after = client.Post("/admin/queue/run", {{"Cookie", cookie}}, "csrf=" + token,
                             "application/x-www-form-urlencoded");
    CHECK(after->status == 403);
}

TEST_CASE("hostile client ids and names are escaped on the admin pages", "[postgresql]") {
    testing::ApiServer server;
    auto api = server.client();
    const std::string hostile = "<script>alert(1)</script>";
    // A client id cannot hold '/' (delete-all could never name it): markup without one.
    const std::string hostile_client = "<img src=x onerror=alert(1)>";
    httplib::MultipartFormDataItems items{
        {"image", testing::fake_image(".png"), "\"><img src=x onerror=alert(2)>.png", "image/png"},
        {"client_id", hostile_client, "", ""},
        {"name", hostile, "", ""}};
    auto uploaded = api.Post("/api/upload/", items);
    REQUIRE(uploaded);
    REQUIRE(uploaded->status == 201);
    const std::string cookie = sign_in(server);
    httplib::Client client("127.0.0.1", server.port());
    for (const char* path : {"/admin/images", "/admin/clients", "/admin/images?q=%3Cscript%3E"}) {
        // (the name, "<script>...", titles the image tile; the client id is on every page)
        INFO(path);
        auto page = client.Get(path, {{"Cookie", cookie}});
        REQUIRE(page);
        CHECK(page->status == 200);
        CHECK(page->body.find("<script>alert") == std::string::npos);
        CHECK(page->body.find("<img src=x") == std::string::npos);
        CHECK(page->body.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
        CHECK(page->get_header_value("Content-Security-Policy").find("default-src 'self'") !=
              std::string::npos);
    }
}

TEST_CASE("an admin search that cannot be one is answered with a sentence on every page",
          "[postgresql]") {
    testing::ApiServer server;
    auto api = server.client();
    auto uploaded = api.Post("/api/upload/",
                             httplib::MultipartFormDataItems{
                                 {"image", testing::fake_image(".png"), "hello.png", "image/png"},
                                 {"client_id", "alpha", "", ""}});
    REQUIRE(uploaded);
    REQUIRE(uploaded->status == 201);
    const std::string cookie = sign_in(server);
    httplib::Client client("127.0.0.1", server.port());
    for (const char* page_path :
         {"/admin/images", "/admin/clients", "/admin/deleted", "/admin/queue"}) {
        INFO(page_path);
        auto refused = client.Get(std::string(page_path) + "?q=he%00llo", {{"Cookie", cookie}});
        REQUIRE(refused);
        CHECK(refused->status == 400);
        CHECK(refused->body.find("search must not contain NUL characters.") != std::string::npos);
        auto too_long = client.Get(std::string(page_path) + "?q=" + std::string(201, 'a'),
                                   {{"Cookie", cookie}});
        REQUIRE(too_long);
        CHECK(too_long->status == 400);
        auto fine = client.Get(std::string(page_path) + "?q=hello", {{"Cookie", cookie}});
        REQUIRE(fine);
        CHECK(fine->status == 200);
    }
}
