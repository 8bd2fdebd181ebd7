// Safe on the internet: the attacks of the edge issue against the real binary on
// loopback. Memory is read from /proc, /healthz is timed, files are checked on disk.
// Every attack is bounded in count and time.

#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/api_server.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"
#include "support/served.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string k_key = testing::ServedGallery::k_api_key;

// `megabytes` MiB of zeros, gzip-compressed (about a thousandth of the size).
std::string gzip_bomb(std::size_t megabytes) {
    z_stream stream{};
    REQUIRE(deflateInit2(&stream, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    const std::string zeros(1024 * 1024, '\0');
    std::string out;
    char buffer[64 * 1024];
    for (std::size_t i = 0; i < megabytes; ++i) {
        stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
        stream.avail_in = static_cast<uInt>(zeros.size());
        const int flush = i + 1 == megabytes ? Z_FINISH : Z_NO_FLUSH;
        do {
            stream.next_out = reinterpret_cast<Bytef*>(buffer);
            stream.avail_out = sizeof buffer;
            deflate(&stream, flush);
            out.append(buffer, sizeof buffer - stream.avail_out);
        } while (stream.avail_out == 0);
    }
    deflateEnd(&stream);
    return out;
}

std::string request_head(const std::string& line, const std::string& headers) {
    return line + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n";
}

json upload_png(httplib::Client& client, std::size_t size) {
    httplib::MultipartFormDataItems items{
        {"image", testing::fake_image(".png", size), "big.png", "image/png"},
        {"client_id", "edge", "", ""}};
    auto answer = client.Post("/api/upload/", items);
    REQUIRE(answer);
    INFO(answer->body);
    REQUIRE(answer->status == 201);
    return json::parse(answer->body);
}

}  // namespace

TEST_CASE("bodies that would be read unbounded are refused before a byte is read") {
    testing::ServedGallery server;
    const std::int64_t before = server.rss_kib();

    // 100 MiB chunked to a key-less path: refused at the headers.
    testing::RawConnection chunked(server.port());
    REQUIRE(chunked.send(request_head("POST /healthz", "Transfer-Encoding: chunked\r\n")));
    const std::string chunk = "100000\r\n" + std::string(0x100000, 'a') + "\r\n";
    for (int i = 0; i < 100 && chunked.send(chunk); ++i) {
    }
    CHECK(chunked.read_status(5s) == 411);

    // A 256 MiB gzip bomb (256 KiB on the wire) with a wrong key: never inflated.
    const std::string bomb = gzip_bomb(256);
    testing::RawConnection compressed(server.port());
    compressed.send(request_head("POST /api/upload/",
                                 "X-API-Key: wrong-key-wrong-key-wrong\r\nContent-Encoding: "
                                 "gzip\r\nContent-Type: application/json\r\nContent-Length: " +
                                     std::to_string(bomb.size()) + "\r\n"));
    compressed.send(bomb);
    CHECK(compressed.read_status(5s) == 415);

    // A declared length over max_body_mb: 413 at once, without waiting for the body.
    testing::RawConnection huge(server.port());
    const auto asked = std::chrono::steady_clock::now();
    REQUIRE(huge.send(request_head("POST /api/upload/",
                                   "X-API-Key: " + k_key + "\r\nContent-Length: 1000000000\r\n")));
    CHECK(huge.read_status(5s) == 413);
    CHECK(std::chrono::steady_clock::now() - asked < 2s);

    // A wrong key with a body inside the limit: 401, the body thrown away unkept.
    httplib::Client anonymous("127.0.0.1", server.port());
    anonymous.set_default_headers({{"X-API-Key", "wrong-key-wrong-key-wrong"}});
    for (int i = 0; i < 5; ++i) {
        auto refused = anonymous.Post("/api/bulk-delete/", std::string(8 * 1024 * 1024, ' '),
                                      "application/json");
        REQUIRE(refused);
        CHECK(refused->status == 401);
    }
    const std::int64_t growth = server.rss_kib() - before;
    INFO("VmRSS grew by " << growth << " KiB");
    CHECK(growth < testing::k_rss_growth_budget_kib);
    CHECK(testing::healthz_seconds(server.port(), 5s) < 1);
}

TEST_CASE("framing a front proxy could read differently is refused and the connection closed") {
    testing::ServedGallery server;
    const std::vector<std::pair<std::string, std::string>> attempts{
        {"POST /api/bulk-delete/", "Content-Length: 2\r\nContent-Length: 40\r\n"},
        {"POST /api/bulk-delete/", "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n"},
        {"GET /api/stats/", "Content-Length: 40\r\n"},
        {"POST /api/bulk-delete/", "Content-Length: 0x17\r\n"},
    };
    for (const auto& [line, headers] : attempts) {
        INFO(line << " with " << headers);
        testing::RawConnection connection(server.port());
        // The smuggled request would be answered second if the first were misread.
        const std::string smuggled = request_head("GET /api/list/", "X-API-Key: " + k_key + "\r\n");
        connection.send(request_head(line, "X-API-Key: " + k_key + "\r\n" + headers) + "{}" +
                        smuggled);
        const std::string answer = connection.read_all(3s);
        CHECK(answer.starts_with("HTTP/1.1 400"));
        CHECK(answer.find("Connection: close") != std::string::npos);
        CHECK(answer.find("\"images\"") == std::string::npos);
    }
}

TEST_CASE("media streams live images only, with one range at most and a short cache life") {
    testing::ServedGallery server(
        std::map<std::string, std::string>{{"GALLERY_MAX_UPLOAD_MB", "2"}});
    auto client = server.client();
    const json image = upload_png(client, 1024 * 1024);
    const std::string url = image["url"];
    const std::int64_t before = server.rss_kib();
    std::string ranges = "bytes=0-";
    for (int i = 0; i < 999; ++i) ranges += ",0-";
    for (int i = 0; i < 5; ++i) {
        auto amplified = client.Get(url, {{"Range", ranges}});
        REQUIRE(amplified);
        CHECK(amplified->status == 200);
        CHECK(amplified->body.size() == 1024 * 1024);
    }
    const std::int64_t growth = server.rss_kib() - before;
    INFO("VmRSS grew by " << growth << " KiB");
    CHECK(growth < testing::k_rss_growth_budget_kib);

    auto part = client.Get(url, {{"Range", "bytes=10-19"}});
    REQUIRE(part);
    CHECK(part->status == 206);
    CHECK(part->get_header_value("Content-Range") == "bytes 10-19/1048576");
    CHECK(part->body == testing::fake_image(".png", 1024 * 1024).substr(10, 10));
    auto tail = client.Get(url, {{"Range", "bytes=-4"}});
    REQUIRE(tail);
    CHECK(tail->status == 206);
    CHECK(tail->body.size() == 4);
    // A malformed Range is never answered with a slice: httplib refuses most of them
    // itself (416) before the route; the rest get the whole file.
    for (const char* malformed : {"bytes=x-5", "bytes=5-x", "bytes=-", "bytes=9-3", "items=0-3"}) {
        INFO(malformed);
        auto ignored = client.Get(url, {{"Range", malformed}});
        REQUIRE(ignored);
        CHECK((ignored->status == 200 || ignored->status == 416));
        if (ignored->status == 200) CHECK(ignored->body.size() == 1024 * 1024);
    }
    auto beyond = client.Get(url, {{"Range", "bytes=2000000-"}});
    REQUIRE(beyond);
    CHECK(beyond->status == 416);
    CHECK(beyond->get_header_value("Content-Range") == "bytes */1048576");
    auto whole = client.Get(url);
    REQUIRE(whole);
    // Short by default: a shared cache shows a deleted image for a minute at most.
    CHECK(whole->get_header_value("Cache-Control") == "public, max-age=60");
    CHECK(whole->get_header_value("X-Content-Type-Options") == "nosniff");

    // A file under the media root that no live image names is not served.
    testing::write_file(server.dir.media_root(), "images/stray.png", testing::fake_image(".png"));
    CHECK(client.Get("/media/images/stray.png")->status == 404);
    // A deleted image stops being served at once, though its file waits for cleanup.
    const std::string path = "/api/delete/" + std::to_string(image["id"].get<int>()) + "/";
    REQUIRE(client.Delete(path)->status == 200);
    CHECK(std::filesystem::exists(server.dir.media_root() / "images" /
                                  image["filename"].get<std::string>()));
    CHECK(client.Get(url)->status == 404);
}

TEST_CASE("idle connections and slow readers beyond the workers hold none past the idle timeout") {
    // 48 workers against 64 idle connections and 20 slow readers: were a connection
    // that sends nothing to keep its worker, /healthz would never get one.
    testing::ServedGallery server(
        std::map<std::string, std::string>{{"GALLERY_MAX_UPLOAD_MB", "8"},
                                           {"GALLERY_THREADS", "48"},
                                           {"GALLERY_HTTP_IDLE_TIMEOUT_SECONDS", "1"}});
    auto client = server.client();
    const json image = upload_png(client, 8 * 1024 * 1024);
    client.stop();
    std::vector<testing::RawConnection> idle;
    for (int i = 0; i < 64; ++i) idle.emplace_back(server.port());
    std::vector<testing::RawConnection> slow;
    for (int i = 0; i < 20; ++i) {
        slow.emplace_back(server.port());
        slow.back().shrink_receive_buffer();
        slow.back().send(request_head("GET " + image["url"].get<std::string>(), ""));
    }
    for (int round = 0; round < 3; ++round) {
        const double seconds = testing::healthz_seconds(server.port(), 10s);
        INFO("round " << round << ": /healthz took " << seconds << " s");
        // Queued behind the idle connections at most until their 1 s runs out.
        CHECK(seconds < 2.5);
        std::this_thread::sleep_for(500ms);
    }
}

TEST_CASE("the database is created 0600 whatever the umask, and so are its WAL files") {
    testing::TempDir dir;
    const std::map<std::string, std::string> env{{"GALLERY_DB", dir.db_path().string()},
                                                 {"GALLERY_MEDIA_ROOT", dir.media_root().string()}};
    const mode_t old_umask = ::umask(0);
    const auto migrated = testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env});
    ::umask(old_umask);
    REQUIRE(migrated.exit_code == 0);
    for (const std::string suffix : {"", "-wal", "-shm"}) {
        const auto path = dir.db_path().string() + suffix;
        if (!std::filesystem::exists(path)) continue;
        INFO(path);
        struct stat info {};
        REQUIRE(::stat(path.c_str(), &info) == 0);
        CHECK((info.st_mode & 0777) == 0600);
    }
}

TEST_CASE("loopback is decided on the resolved address, not on the host's spelling") {
    testing::TempDir dir;
    const std::map<std::string, std::string> env{{"GALLERY_DB", dir.db_path().string()},
                                                 {"GALLERY_MEDIA_ROOT", dir.media_root().string()}};
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    const auto result = testing::run_process(
        {GALLERY_BINARY, "serve", "--host", "127.0.0.1.example", "--port", "0"},
        {.environment = env});
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("without an API key") != std::string::npos);
}

TEST_CASE("a client id delete-all could never address is refused at upload", "[threads]") {
    testing::ApiServer server;
    auto client = server.client();
    for (const std::string id : {"shop/1", "a\x01"}) {
        httplib::MultipartFormDataItems items{
            {"image", testing::fake_image(".png"), "a.png", "image/png"},
            {"client_id", id, "", ""}};
        auto answer = client.Post("/api/upload/", items);
        REQUIRE(answer);
        CHECK(answer->status == 400);
        CHECK(answer->get_header_value("X-Content-Type-Options") == "nosniff");
    }
    auto renamed = client.Put("/api/update/1/", R"({"client_id": "a/b"})", "application/json");
    REQUIRE(renamed);
    CHECK(renamed->status == 400);
}

TEST_CASE("a client that expects 100-continue hears a refusal before it sends its body") {
    testing::ServedGallery server;
    testing::RawConnection refused(server.port());
    REQUIRE(refused.send(request_head("POST /api/upload/",
                                      "X-API-Key: wrong-key-wrong-key-wrong\r\nExpect: "
                                      "100-continue\r\nContent-Length: 5000000\r\n")));
    const std::string answer = refused.read_all(3s);
    CHECK(answer.starts_with("HTTP/1.1 401"));
    CHECK(answer.find("Invalid API key. Access denied.") != std::string::npos);
    testing::RawConnection admitted(server.port());
    REQUIRE(admitted.send(
        request_head("POST /api/bulk-delete/", "X-API-Key: " + k_key +
                                                   "\r\nExpect: 100-continue\r\nContent-Type: "
                                                   "application/json\r\nContent-Length: 20\r\n")));
    CHECK(admitted.read_all(1s).starts_with("HTTP/1.1 100 Continue"));
    admitted.send(R"({"image_ids": [123]})");
    CHECK(admitted.read_all(2s).find("\"not_found_ids\":[123]") != std::string::npos);
}

TEST_CASE("a request without body framing has an empty body as the original's cron sends it",
          "[postgresql]") {
    testing::ServedGallery server;
    auto client = server.client();
    const json stored = upload_png(client, 64);
    const std::string update_line =
        "PUT /api/update/" + std::to_string(stored["id"].get<int>()) + "/";
    // The original's guide: curl -X POST ".../api/cleanup/run/?batch_size=200", which
    // sends neither Content-Length nor Transfer-Encoding.
    const std::pair<std::string, std::string> cases[] = {
        {"POST /api/cleanup/run/?batch_size=200", "X-API-Key: " + k_key + "\r\n"},
        {"POST /api/cleanup/run/?batch_size=200", ""},
        {"POST /api/cleanup/run/?batch_size=200", "X-API-Key: wrong-key-wrong-key-wrong\r\n"},
        {update_line, "X-API-Key: " + k_key + "\r\nContent-Type: application/json\r\n"},
        {"PATCH /api/upload/", "X-API-Key: " + k_key + "\r\n"},
    };
    const int expected[] = {200, 401, 401, 400, 405};
    for (std::size_t i = 0; i < std::size(cases); ++i) {
        INFO(cases[i].first << " with " << cases[i].second);
        testing::RawConnection connection(server.port());
        const auto asked = std::chrono::steady_clock::now();
        REQUIRE(connection.send(
            request_head(cases[i].first, cases[i].second + "Connection: close\r\n")));
        CHECK(connection.read_status(5s) == expected[i]);
        CHECK(std::chrono::steady_clock::now() - asked < 2s);
    }
    // Each went through the API: the request log names the cron run.
    const std::string log = testing::read_text_file(server.dir.path() / "serve.out.err");
    CHECK(log.find("route=/api/cleanup/run/ status=200") != std::string::npos);
    INFO(log);
    CHECK(log.find("status=401") != std::string::npos);
    // The connection stays in step after an unframed request: a second one on it is
    // answered too.
    testing::RawConnection kept(server.port());
    const std::string run = request_head("POST /api/cleanup/run/", "X-API-Key: " + k_key + "\r\n");
    REQUIRE(kept.send(run));
    CHECK(kept.read_all(500ms).starts_with("HTTP/1.1 200"));
    REQUIRE(kept.send(run));
    CHECK(kept.read_all(500ms).starts_with("HTTP/1.1 200"));
}
