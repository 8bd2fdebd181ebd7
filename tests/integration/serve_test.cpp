// The real `gallery serve` process: start-up refusals, the generated key, graceful stop.

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include "gallery/db/statement.hpp"
#include "gallery/transport/http_server.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/api_server.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/served.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;

namespace {

using Served = testing::ServedProcess;

Served start_server(const testing::TempDir& dir, const std::map<std::string, std::string>& env) {
    return testing::start_serve(env, dir.path() / "serve.out");
}

// Migrates, queues a real file (images/old.jpg), starts the server and waits up to
// 5 s for its in-process cleaner (GALLERY_CLEANUP_EVERY in `env`) to delete it.
Served serve_with_queued_file(const testing::TempDir& dir,
                              const std::map<std::string, std::string>& env) {
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    testing::write_file(dir.media_root(), "images/old.jpg", "x");
    REQUIRE(
        testing::run_process({GALLERY_BINARY, "enqueue", "images/old.jpg"}, {.environment = env})
            .exit_code == 0);
    const Served served = start_server(dir, env);
    for (int i = 0; i < 100 && std::filesystem::exists(dir.media_root() / "images/old.jpg"); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return served;
}

}  // namespace

TEST_CASE("serve refuses a non-loopback address without an API key and a short key anywhere") {
    testing::TempDir dir;
    const std::map<std::string, std::string> env{{"GALLERY_DB", dir.db_path().string()},
                                                 {"GALLERY_MEDIA_ROOT", dir.media_root().string()}};
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    auto open =
        testing::run_process({GALLERY_BINARY, "serve", "--host", "0.0.0.0"}, {.environment = env});
    CHECK(open.exit_code == 2);
    CHECK(open.err.find("without an API key: set GALLERY_API_KEY") != std::string::npos);
    auto env_short = env;
    env_short["GALLERY_API_KEY"] = "short";
    auto short_key = testing::run_process({GALLERY_BINARY, "serve"}, {.environment = env_short});
    CHECK(short_key.exit_code == 2);
    CHECK(short_key.err.find("shorter than 16") != std::string::npos);
    CHECK(short_key.err.find("short'") == std::string::npos);  // the key itself is never printed
}

TEST_CASE("serve on loopback generates a key once and stops cleanly on SIGTERM") {
    testing::TempDir dir;
    const std::map<std::string, std::string> env{{"GALLERY_DB", dir.db_path().string()},
                                                 {"GALLERY_MEDIA_ROOT", dir.media_root().string()}};
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    const Served first = start_server(dir, env);
    REQUIRE(first.generated_key.size() == 64);
    httplib::Client client("127.0.0.1", first.port);
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    auto listed = client.Get("/api/list/", {{"X-API-Key", first.generated_key}});
    REQUIRE(listed);
    CHECK(listed->status == 200);
    // A second server cannot take the same port (no SO_REUSEPORT sharing).
    auto clash = testing::run_process(
        {GALLERY_BINARY, "serve", "--port", std::to_string(first.port)}, {.environment = env});
    CHECK(clash.exit_code == 1);
    CHECK(clash.err.find("cannot listen on 127.0.0.1:" + std::to_string(first.port)) !=
          std::string::npos);
    ::kill(first.pid, SIGTERM);
    CHECK(testing::wait_process(first.pid) == 0);

    const Served second = start_server(dir, env);
    CHECK(second.generated_key == first.generated_key);
    ::kill(second.pid, SIGINT);
    CHECK(testing::wait_process(second.pid) == 0);
}

TEST_CASE("a stop that comes before the server listens is not lost") {
    transport::HttpServer server({.host = "127.0.0.1", .port = 0, .threads = 2},
                                 [](api::Request&) { return api::Response{}; });
    REQUIRE(server.bind() > 0);
    server.stop();
    auto serving = std::async(std::launch::async, [&] { server.serve(); });
    const bool returned = serving.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
    if (!returned) server.stop();  // listening now: let the thread end before the server does
    CHECK(returned);
}

TEST_CASE("serve stops on a signal that arrives between its banner and its first request") {
    testing::TempDir dir;
    const std::map<std::string, std::string> env{{"GALLERY_DB", dir.db_path().string()},
                                                 {"GALLERY_MEDIA_ROOT", dir.media_root().string()}};
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    // The banner is printed before the accept loop runs; httplib ignores a stop
    // that comes before it (this hung CI under AddressSanitizer).
    for (int attempt = 0; attempt < 10; ++attempt) {
        const Served served = start_server(dir, env);
        ::kill(served.pid, attempt % 2 == 0 ? SIGTERM : SIGINT);
        CHECK(testing::wait_process(served.pid, std::chrono::seconds(10)) == 0);
    }
}

TEST_CASE("serve with a configured key never prints it") {
    testing::TempDir dir;
    const std::string secret = "configured-secret-key-0123456789";
    const std::map<std::string, std::string> env{{"GALLERY_DB", dir.db_path().string()},
                                                 {"GALLERY_MEDIA_ROOT", dir.media_root().string()},
                                                 {"GALLERY_API_KEY", secret}};
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    const Served served = start_server(dir, env);
    httplib::Client client("127.0.0.1", served.port);
    auto listed = client.Get("/api/list/", {{"X-API-Key", secret}});
    REQUIRE(listed);
    CHECK(listed->status == 200);
    ::kill(served.pid, SIGTERM);
    CHECK(testing::wait_process(served.pid) == 0);
    const std::string printed = testing::read_text_file(dir.path() / "serve.out") +
                                testing::read_text_file(dir.path() / "serve.out.err");
    CHECK(printed.find(secret) == std::string::npos);
    CHECK(printed.find("****6789") != std::string::npos);
}

TEST_CASE("serve releases the upload keys it reserved and did not use when it stops") {
    testing::TempDir dir;
    const std::string key = "upload-keys-test-key-0123456789";
    const std::map<std::string, std::string> env{{"GALLERY_DB", dir.db_path().string()},
                                                 {"GALLERY_MEDIA_ROOT", dir.media_root().string()},
                                                 {"GALLERY_API_KEY", key}};
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    const Served served = start_server(dir, env);
    httplib::Client client("127.0.0.1", served.port);
    client.set_default_headers({{"X-API-Key", key}});
    auto uploaded = testing::upload(client, "p.jpg", testing::fake_image(".jpg"), "shop");
    REQUIRE(uploaded);
    REQUIRE(uploaded->status == 201);
    auto count = [&](const char* sql) {
        db::Connection database(dir.database_options());
        return db::query_int64(database, sql);
    };
    CHECK(count("SELECT COUNT(*) FROM upload_intents") > 0);  // the rest of the batch
    ::kill(served.pid, SIGTERM);
    CHECK(testing::wait_process(served.pid) == 0);
    CHECK(count("SELECT COUNT(*) FROM upload_intents") == 0);
    CHECK(count("SELECT COUNT(*) FROM images") == 1);
}

TEST_CASE("serve runs the cleaner every interval and exposes metrics and request ids",
          "[threads]") {
    testing::TempDir dir;
    const std::map<std::string, std::string> env{{"GALLERY_DB", dir.db_path().string()},
                                                 {"GALLERY_MEDIA_ROOT", dir.media_root().string()},
                                                 {"GALLERY_API_KEY", "metrics-test-key-0123456789"},
                                                 {"GALLERY_CLEANUP_EVERY", "1s"}};
    const Served served = serve_with_queued_file(dir, env);
    CHECK_FALSE(std::filesystem::exists(dir.media_root() / "images/old.jpg"));

    httplib::Client client("127.0.0.1", served.port);
    auto anonymous = client.Get("/metrics");
    REQUIRE(anonymous);
    CHECK(anonymous->status == 401);
    client.Get("/api/list/", {{"X-API-Key", "metrics-test-key-0123456789"}});
    auto metrics = client.Get("/metrics", {{"X-API-Key", "metrics-test-key-0123456789"}});
    REQUIRE(metrics);
    CHECK(metrics->status == 200);
    CHECK(metrics->get_header_value("Content-Type").starts_with("text/plain"));
    CHECK_FALSE(metrics->get_header_value("X-Request-Id").empty());
    const std::string& text = metrics->body;
    CHECK(text.find("gallery_queue_pending 0") != std::string::npos);
    CHECK(
        text.find(
            "gallery_http_requests_total{route=\"/api/list/\",method=\"GET\",status=\"200\"} 1") !=
        std::string::npos);
    CHECK(text.find("gallery_cleanup_runs_total{trigger=\"scheduler\"}") != std::string::npos);
    CHECK(text.find("gallery_cleanup_objects_deleted_total 1") != std::string::npos);
    CHECK(text.find("gallery_build_info{version=") != std::string::npos);
    ::kill(served.pid, SIGTERM);
    CHECK(testing::wait_process(served.pid) == 0);
    // One access-log line per request with the request id and the route, never the key.
    const std::string log = testing::read_text_file(dir.path() / "serve.out.err");
    CHECK(log.find("request method=GET route=/api/list/ status=200 duration_ms=") !=
          std::string::npos);
    CHECK(log.find("req=") != std::string::npos);
    CHECK(log.find("metrics-test-key-0123456789") == std::string::npos);
}

TEST_CASE("serve logs one JSON object per line with --log-format json") {
    testing::TempDir dir;
    const std::map<std::string, std::string> env{
        {"GALLERY_DB", dir.db_path().string()},
        {"GALLERY_MEDIA_ROOT", dir.media_root().string()},
        {"GALLERY_API_KEY", "json-log-test-key-0123456789"},
        {"GALLERY_CLEANUP_EVERY", "1s"},
        {"GALLERY_LOG_FORMAT", "json"}};
    const Served served = serve_with_queued_file(dir, env);
    httplib::Client client("127.0.0.1", served.port);
    auto listed = client.Get("/api/list/", {{"X-API-Key", "json-log-test-key-0123456789"}});
    REQUIRE(listed);
    const std::string request_id = listed->get_header_value("X-Request-Id");
    ::kill(served.pid, SIGTERM);
    CHECK(testing::wait_process(served.pid) == 0);

    std::istringstream lines(testing::read_text_file(dir.path() / "serve.out.err"));
    bool saw_request = false;
    bool saw_cleanup = false;
    for (std::string line; std::getline(lines, line);) {
        INFO(line);
        const auto entry = nlohmann::json::parse(line);  // every line is one JSON object
        CHECK(entry.contains("time"));
        CHECK(entry.contains("level"));
        if (entry["message"] == "request" && entry["route"] == "/api/list/") {
            saw_request = true;
            CHECK(entry["request_id"] == request_id);
            CHECK(entry["status"] == 200);
            CHECK(entry["method"] == "GET");
            CHECK(entry["duration_ms"].is_number());
            CHECK(entry["bytes"].is_number_integer());
        }
        if (entry["message"] == "cleanup run" && entry["deleted"] == 1) {
            saw_cleanup = true;
            CHECK(entry["trigger"] == "scheduler");
        }
    }
    CHECK(saw_request);
    CHECK(saw_cleanup);
}

TEST_CASE("a bad --log-format is refused with exit 2") {
    const auto result = testing::run_process({GALLERY_BINARY, "stats", "--log-format", "xml"});
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("--log-format") != std::string::npos);
}

TEST_CASE("the /metrics output passes promtool check metrics") {
    testing::TempDir dir;
    const std::map<std::string, std::string> env{
        {"GALLERY_DB", dir.db_path().string()},
        {"GALLERY_MEDIA_ROOT", dir.media_root().string()},
        {"GALLERY_API_KEY", "promtool-test-key-0123456789"},
        {"GALLERY_METRICS_PUBLIC", "true"}};
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    const Served served = start_server(dir, env);
    httplib::Client client("127.0.0.1", served.port);
    client.Get("/api/list/", {{"X-API-Key", "promtool-test-key-0123456789"}});
    client.Get("/no/such/route");
    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    REQUIRE(metrics->status == 200);
    ::kill(served.pid, SIGTERM);
    CHECK(testing::wait_process(served.pid) == 0);
    REQUIRE(std::filesystem::exists("/usr/bin/promtool"));  // Debian's prometheus (scripts/setup)
    const auto checked =
        testing::run_process({"/usr/bin/promtool", "check", "metrics"}, {.input = metrics->body});
    INFO(checked.out << checked.err);
    CHECK(checked.exit_code == 0);
    CHECK(checked.out + checked.err == "");  // no lint warnings either
}

TEST_CASE("the in-process cleaner backs off while storage is down and says so", "[threads]") {
    testing::TempDir dir;
    const std::map<std::string, std::string> env{
        {"GALLERY_DB", dir.db_path().string()},
        {"GALLERY_STORAGE", "s3"},
        {"GALLERY_S3_ENDPOINT", "http://127.0.0.1:1"},  // nothing listens: connection refused
        {"GALLERY_S3_BUCKET", "photos"},
        {"GALLERY_S3_REGION", "us-east-1"},
        {"GALLERY_S3_ACCESS_KEY", "AKIABACKOFFTEST"},
        {"GALLERY_S3_SECRET_KEY", "backoff-test-secret"},
        {"GALLERY_API_KEY", "backoff-test-key-0123456789"},
        {"GALLERY_METRICS_PUBLIC", "true"},
        {"GALLERY_CLEANUP_EVERY", "1s"}};
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    REQUIRE(testing::run_process({GALLERY_BINARY, "enqueue", "images/a.jpg", "images/b.jpg"},
                                 {.environment = env})
                .exit_code == 0);
    const Served served = start_server(dir, env);
    httplib::Client client("127.0.0.1", served.port);
    std::string text;
    for (int i = 0; i < 100; ++i) {
        auto metrics = client.Get("/metrics");
        REQUIRE(metrics);
        text = metrics->body;
        if (text.find("\ngallery_cleanup_storage_down 1\n") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(text.find("\ngallery_cleanup_storage_down 1\n") != std::string::npos);
    INFO(text);
    CHECK(text.find("\ngallery_cleanup_scheduler_delay_seconds 2\n") != std::string::npos);
    ::kill(served.pid, SIGTERM);
    CHECK(testing::wait_process(served.pid) == 0);
    const std::string log = testing::read_text_file(dir.path() / "serve.out.err");
    INFO(log);
    CHECK(
        log.find("storage unavailable; backing off consecutive_outages=1 next_run_in_seconds=2") !=
        std::string::npos);
    CHECK(log.find("backoff-test-secret") == std::string::npos);
    // No attempt was charged: the rows were given back untouched.
    db::Connection database({.path = dir.db_path()});
    CHECK(db::query_int64(database, "SELECT COUNT(*) FROM deletion_queue WHERE attempts > 0") == 0);
}

namespace {

// A raw TCP connection to 127.0.0.1:port that sends `bytes` and then nothing.
int stalled_connection(int port, std::string_view bytes) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    if (!bytes.empty()) REQUIRE(::send(fd, bytes.data(), bytes.size(), 0) == std::ssize(bytes));
    const timeval wait{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    return fd;
}

// True when the server closed the connection (EOF or reset) before our 5 s wait ran out.
bool closed_by_server(int fd) {
    char buffer[512];
    for (;;) {
        const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
        if (got == 0) return true;
        if (got < 0) return errno == ECONNRESET;
    }
}

}  // namespace

TEST_CASE("slow clients holding every worker are dropped after the read timeout") {
    testing::TempDir dir;
    const std::map<std::string, std::string> env{{"GALLERY_DB", dir.db_path().string()},
                                                 {"GALLERY_MEDIA_ROOT", dir.media_root().string()},
                                                 {"GALLERY_API_KEY", "slow-client-key-0123456789"},
                                                 {"GALLERY_THREADS", "2"},
                                                 {"GALLERY_HTTP_TIMEOUT_SECONDS", "1"}};
    REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code == 0);
    const Served served = start_server(dir, env);
    // Both workers taken: one connection silent, one stopped half-way through its headers.
    const auto started = std::chrono::steady_clock::now();
    const int silent = stalled_connection(served.port, "");
    const int half = stalled_connection(served.port, "GET /api/list/ HTTP/1.1\r\nHost: x\r\nX-Api");

    httplib::Client client("127.0.0.1", served.port);
    client.set_read_timeout(std::chrono::seconds(10));
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    const auto waited = std::chrono::steady_clock::now() - started;
    CHECK(waited < std::chrono::seconds(4));  // freed by the 1 s read timeout, not by us
    CHECK(closed_by_server(silent));
    CHECK(closed_by_server(half));
    ::close(silent);
    ::close(half);
    ::kill(served.pid, SIGTERM);
    CHECK(testing::wait_process(served.pid) == 0);
}
