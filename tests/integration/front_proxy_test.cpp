// The shipped nginx site (packaging/nginx/gallery.conf) in front of the real binary,
// as on the internet: Debian's nginx with a certificate made by the test, the hostile
// catalogue sent through it over TLS. What the proxy must refuse it refuses, and
// gallery's memory and /healthz are unaffected.

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "support/api_server.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"
#include "support/served.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;
using namespace std::chrono_literals;
using nlohmann::json;
using Tls = testing::RawConnection::Transport;

namespace {

const std::string k_key = "front-proxy-test-key-0123456789";
const std::string k_nginx = "/usr/sbin/nginx";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

// gallery serve behind the shipped nginx site, both on loopback ports of their own.
struct Front {
    Front() {
        REQUIRE(std::filesystem::exists(k_nginx));  // scripts/setup installs Debian's nginx
        env = {{"GALLERY_DB", dir.db_path().string()},
               {"GALLERY_MEDIA_ROOT", dir.media_root().string()},
               {"GALLERY_API_KEY", k_key},
               {"GALLERY_TRUSTED_PROXIES", "127.0.0.1"}};
        REQUIRE(testing::run_process({GALLERY_BINARY, "migrate"}, {.environment = env}).exit_code ==
                0);
        gallery = testing::start_serve(env, dir.path() / "serve.out");

        const auto cert = dir.path() / "cert.pem";
        const auto key = dir.path() / "key.pem";
        REQUIRE(testing::run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                                      "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout",
                                      key.string(), "-out", cert.string()})
                    .exit_code == 0);
        tls_port = testing::free_loopback_port();
        plain_port = testing::free_loopback_port();
        std::ifstream shipped(GALLERY_NGINX_SITE);
        std::string site((std::istreambuf_iterator<char>(shipped)), {});
        site = replaced(site, "server 127.0.0.1:8000;",
                        "server 127.0.0.1:" + std::to_string(gallery.port) + ";");
        site = replaced(site, "    listen [::]:80;\n", "");
        site = replaced(site, "    listen [::]:443 ssl;\n", "");
        site = replaced(site, "listen 80;", "listen 127.0.0.1:" + std::to_string(plain_port) + ";");
        site = replaced(site, "listen 443 ssl;",
                        "listen 127.0.0.1:" + std::to_string(tls_port) + " ssl;");
        site = replaced(site, "/etc/ssl/certs/gallery.example.com.pem", cert.string());
        site = replaced(site, "/etc/ssl/private/gallery.example.com.key", key.string());
        std::ofstream(dir.path() / "site.conf") << site;
        const std::string d = dir.path().string();
        std::ofstream(dir.path() / "nginx.conf")
            << (::geteuid() == 0 ? "user root;\n" : "") << "daemon off;\nworker_processes 1;\n"
            << "pid " << d << "/nginx.pid;\nerror_log " << d << "/nginx-error.log info;\n"
            << "events { worker_connections 1024; }\nhttp {\n  access_log " << d
            << "/nginx-access.log;\n  client_body_temp_path " << d << "/body;\n  proxy_temp_path "
            << d << "/proxy;\n  fastcgi_temp_path " << d << "/fastcgi;\n  uwsgi_temp_path " << d
            << "/uwsgi;\n  scgi_temp_path " << d << "/scgi;\n  include " << d << "/site.conf;\n}\n";
        const auto checked = testing::run_process(
            {k_nginx, "-t", "-e", d + "/nginx-error.log", "-c", d + "/nginx.conf"});
        INFO(checked.err);
        REQUIRE(checked.exit_code == 0);
        nginx = testing::start_process(
            {k_nginx, "-e", d + "/nginx-error.log", "-c", d + "/nginx.conf"}, {}, d + "/nginx.out");
        for (int i = 0; i < 100 && !answers(); ++i) std::this_thread::sleep_for(50ms);
        REQUIRE(answers());
    }
    ~Front() {
        ::kill(nginx, SIGTERM);
        testing::wait_process(nginx);
        ::kill(gallery.pid, SIGTERM);
        testing::wait_process(gallery.pid);
    }
    bool answers() const {
        httplib::SSLClient probe("127.0.0.1", tls_port);
        probe.enable_server_certificate_verification(false);
        probe.set_connection_timeout(2s);
        probe.set_read_timeout(5s);
        auto health = probe.Get("/healthz");
        return health && health->status == 200;
    }
    httplib::Client client() const {
        httplib::Client c("https://127.0.0.1:" + std::to_string(tls_port));
        c.enable_server_certificate_verification(false);
        c.set_default_headers({{"X-API-Key", k_key}});
        c.set_read_timeout(10s);
        return c;
    }
    std::int64_t gallery_rss_kib() const { return testing::resident_kib(gallery.pid); }

    testing::TempDir dir;
    std::map<std::string, std::string> env;
    testing::ServedProcess gallery;
    pid_t nginx = -1;
    int tls_port = 0;
    int plain_port = 0;
};

std::string head(const std::string& line, const std::string& headers = "") {
    return line + " HTTP/1.1\r\nHost: localhost\r\n" + headers + "\r\n";
}

int status_of(const std::string& answer) {
    if (!answer.starts_with("HTTP/1.1 ") || answer.size() < 12) return 0;
    return std::stoi(answer.substr(9, 3));
}

}  // namespace

TEST_CASE("behind the shipped nginx site the API works over TLS and sees the client's scheme") {
    Front front;
    auto client = front.client();
    httplib::MultipartFormDataItems items{
        {"image", testing::fake_image(".png"), "a.png", "image/png"}, {"client_id", "c", "", ""}};
    auto uploaded = client.Post("/api/upload/", items);
    REQUIRE(uploaded);
    REQUIRE(uploaded->status == 201);
    const json image = json::parse(uploaded->body);
    // Absolute under the address the client used (nginx's X-Forwarded-Host/-Proto).
    const std::string path = "/media/images/" + image["filename"].get<std::string>();
    CHECK(image["url"] == "https://127.0.0.1:" + std::to_string(front.tls_port) + path);
    auto served = client.Get(path);
    REQUIRE(served);
    CHECK(served->status == 200);
    CHECK(served->body == testing::fake_image(".png"));
    // The admin cookie is Secure: nginx says the browser came over HTTPS.
    auto signed_in =
        client.Post("/admin/login", "password=" + k_key, "application/x-www-form-urlencoded");
    REQUIRE(signed_in);
    CHECK(signed_in->status == 303);
    CHECK(signed_in->get_header_value("Set-Cookie").find("; Secure") != std::string::npos);
    // Plain HTTP is sent to HTTPS.
    httplib::Client plain("127.0.0.1", front.plain_port);
    auto redirected = plain.Get("/api/list/");
    REQUIRE(redirected);
    CHECK(redirected->status == 301);
    CHECK(redirected->get_header_value("Location").starts_with("https://"));
}

TEST_CASE("the hostile catalogue is refused at the proxy and gallery is unaffected") {
    Front front;
    const std::int64_t before = front.gallery_rss_kib();

    SECTION("a header flood") {
        testing::RawConnection flood(front.tls_port, Tls::tls);
        flood.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n");
        const std::string filler(8000, 'a');
        for (int i = 0;
             i < 2000 && flood.send("X-Flood-" + std::to_string(i) + ": " + filler + "\r\n"); ++i) {
        }
        const int status = status_of(flood.read_all(5s));
        CHECK((status == 400 || status == 494 || status == 0));
    }
    SECTION("slow clients: dripped headers and unsent bodies hold nothing of gallery's") {
        std::vector<testing::RawConnection> slow;
        for (int i = 0; i < 100; ++i) {
            slow.emplace_back(front.tls_port, Tls::tls);
            if (i % 2 == 0) {
                slow.back().send("GET /api/list/ HTTP/1.1\r\nHost: localhost\r\nX-A");
            } else {
                slow.back().send(head("POST /api/bulk-delete/",
                                      "X-API-Key: " + k_key + "\r\nContent-Length: 100000\r\n"));
            }
        }
        std::this_thread::sleep_for(300ms);
        CHECK(testing::healthz_seconds(front.gallery.port, 5s) < 1);
        CHECK(front.answers());
    }
    SECTION("chunked bodies reach gallery with a length, or stop at the proxy's size limit") {
        testing::RawConnection small(front.tls_port, Tls::tls);
        small.send(head("POST /api/bulk-delete/", "X-API-Key: " + k_key +
                                                      "\r\nContent-Type: application/json\r\n"
                                                      "Transfer-Encoding: chunked\r\n") +
                   "13\r\n{\"image_ids\": [77]}\r\n0\r\n\r\n");
        const std::string answer = small.read_all(3s);
        CHECK(status_of(answer) == 200);
        CHECK(answer.find("\"not_found_ids\":[77]") != std::string::npos);
        testing::RawConnection big(front.tls_port, Tls::tls);
        big.send(head("POST /api/bulk-delete/",
                      "X-API-Key: " + k_key + "\r\nTransfer-Encoding: chunked\r\n"));
        const std::string chunk = "100000\r\n" + std::string(0x100000, 'a') + "\r\n";
        for (int i = 0; i < 20 && big.send(chunk); ++i) {
        }
        CHECK(status_of(big.read_all(5s)) == 413);
    }
    SECTION("smuggling attempts and a percent-encoded key") {
        for (const std::string headers :
             {"Content-Length: 2\r\nContent-Length: 40\r\n",
              "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
              "Transfer-Encoding: chunked, identity\r\n", "Content-Length: 0x17\r\n"}) {
            INFO(headers);
            testing::RawConnection connection(front.tls_port, Tls::tls);
            connection.send(
                head("POST /api/bulk-delete/", "X-API-Key: " + k_key + "\r\n" + headers) + "{}" +
                head("GET /api/list/", "X-API-Key: " + k_key + "\r\n"));
            const std::string answer = connection.read_all(3s);
            CHECK(status_of(answer) >= 400);
            CHECK(answer.find("\"images\"") == std::string::npos);
        }
        std::string encoded = k_key;
        encoded.replace(0, 1, "%66");  // 'f'
        testing::RawConnection connection(front.tls_port, Tls::tls);
        connection.send(head("GET /api/list/", "X-API-Key: " + encoded + "\r\n"));
        CHECK(status_of(connection.read_all(3s)) == 400);
    }
    SECTION("pipelined requests are all answered, in order") {
        testing::RawConnection connection(front.tls_port, Tls::tls);
        connection.send(head("GET /healthz") +
                        head("GET /api/stats/", "X-API-Key: " + k_key + "\r\n") +
                        head("GET /healthz", "Connection: close\r\n"));
        const std::string answers = connection.read_all(5s);
        std::regex status_line("HTTP/1\\.1 200 OK");
        CHECK(std::distance(std::sregex_iterator(answers.begin(), answers.end(), status_line),
                            std::sregex_iterator()) == 3);
        CHECK(answers.find("total_images") != std::string::npos);
    }
    const std::int64_t growth = front.gallery_rss_kib() - before;
    INFO("gallery's VmRSS grew by " << growth << " KiB");
    CHECK(growth < testing::k_rss_growth_budget_kib);
    CHECK(testing::healthz_seconds(front.gallery.port, 5s) < 1);
}
