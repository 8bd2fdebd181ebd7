#include "support/s3rver.hpp"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/process.hpp"

namespace gallery::testing {

S3rver::S3rver() {
    const std::string script =
        "require('@20minutes/s3rver/lib/"
        "cli').parseAsync(['node','s3rver',...process.argv.slice(1)])";
    const std::string data = (m_dir.path() / "data").string();
    std::filesystem::create_directories(data);
    const std::string log = (m_dir.path() / "s3rver.log").string();
    // The legacy OpenSSL provider is what its list continuation tokens need on Node 20.
    m_pid = start_process(
        {"/usr/bin/env", "node", "--openssl-legacy-provider", "-e", script, "--", "-d", data, "-a",
         "127.0.0.1", "-p", "0", "-s", "--configure-bucket", "gallery"},
        {.environment = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}},
         .working_directory = GALLERY_S3RVER_DIR},
        log);
    static const std::regex k_listening(R"(S3rver listening on 127\.0\.0\.1:(\d+))");
    for (int i = 0; i < 1500; ++i) {
        std::ifstream in(log);
        std::stringstream text;
        text << in.rdbuf();
        std::smatch match;
        const std::string content = text.str();
        if (std::regex_search(content, match, k_listening)) {
            m_port = std::stoi(match[1].str());
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(m_pid, SIGKILL);
    wait_process(m_pid);
    throw std::runtime_error(
        "s3rver did not start (is tests/s3rver installed? run scripts/setup); log: " + log);
}

S3rver::~S3rver() {
    if (m_pid > 0) {
        ::kill(m_pid, SIGTERM);
        wait_process(m_pid);
    }
}

storage::S3Options S3rver::options() const {
    storage::S3Options options;
    options.endpoint = endpoint();
    options.bucket = "gallery";
    options.region = "us-east-1";
    options.access_key = "S3RVER";
    options.secret_key = "S3RVER";
    return options;
}

}  // namespace gallery::testing
