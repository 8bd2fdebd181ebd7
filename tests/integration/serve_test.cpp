// The real `gallery serve` process: start-up refusals, the generated key, graceful stop.

#include <httplib.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace gallery;

namespace {

struct Served {
    pid_t pid;
    int port;
    std::string key;
};

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Starts `gallery serve --port 0` and waits for its banner.
Served start_server(const testing::TempDir& dir, const std::map<std::string, std::string>& env) {
    const auto out = dir.path() / "serve.out";
    const pid_t pid = testing::start_process({GALLERY_BINARY, "serve", "--port", "0"},
                                             {.environment = env}, out.string());
    static const std::regex k_banner(R"(listening on http://127\.0\.0\.1:(\d+)/)");
    static const std::regex k_key(R"(kept in the database\): ([0-9a-f]+))");
    for (int i = 0; i < 500; ++i) {
        const std::string text = read_file(out);
        std::smatch port, key;
        if (std::regex_search(text, port, k_banner) &&
            text.find("Stop with") != std::string::npos) {
            std::regex_search(text, key, k_key);
            return {pid, std::stoi(port[1].str()), key.empty() ? "" : key[1].str()};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    FAIL("server did not start: " << read_file(out) << read_file(out.string() + ".err"));
    return {};
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
    REQUIRE(first.key.size() == 64);
    httplib::Client client("127.0.0.1", first.port);
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    auto listed = client.Get("/api/list/", {{"X-API-Key", first.key}});
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
    CHECK(second.key == first.key);
    ::kill(second.pid, SIGINT);
    CHECK(testing::wait_process(second.pid) == 0);
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
    const std::string printed =
        read_file(dir.path() / "serve.out") + read_file(dir.path() / "serve.out.err");
    CHECK(printed.find(secret) == std::string::npos);
    CHECK(printed.find("****6789") != std::string::npos);
}
