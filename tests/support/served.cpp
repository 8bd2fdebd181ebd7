#include "support/served.hpp"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/process.hpp"
#include "support/raw_http.hpp"

namespace gallery::testing {

std::string read_text_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

ServedProcess start_serve(const std::map<std::string, std::string>& env,
                          const std::filesystem::path& out, const std::vector<std::string>& wrapper,
                          const std::string& binary) {
    std::vector<std::string> argv = wrapper;
    argv.push_back(binary);
    for (const char* arg : {"serve", "--port", "0"}) argv.emplace_back(arg);
    const pid_t pid = start_process(argv, {.environment = env}, out.string());
    static const std::regex k_banner(R"(listening on http://127\.0\.0\.1:(\d+)/)");
    static const std::regex k_key(R"(kept in the database\): ([0-9a-f]+))");
    for (int i = 0; i < 500; ++i) {
        const std::string text = read_text_file(out);
        std::smatch port, key;
        if (std::regex_search(text, port, k_banner) &&
            text.find("Stop with") != std::string::npos) {
            std::regex_search(text, key, k_key);
            return {pid, std::stoi(port[1].str()), key.empty() ? "" : key[1].str()};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    wait_process(pid);
    throw std::runtime_error("gallery serve did not start: " + read_text_file(out) +
                             read_text_file(out.string() + ".err"));
}

ServedGallery::ServedGallery(std::map<std::string, std::string> extra) {
    env = {{"GALLERY_DB", dir.database()},
           {"GALLERY_MEDIA_ROOT", dir.media_root().string()},
           {"GALLERY_API_KEY", k_api_key},
           {"GALLERY_BACKUP_DIR", (dir.path() / "backups").string()}};
    // `extra` wins over the defaults above.
    for (auto& [name, value] : extra) env[name] = std::move(value);
    const ProcessResult migrated = run_process({GALLERY_BINARY, "migrate"}, {.environment = env});
    if (migrated.exit_code != 0)
        throw std::runtime_error("gallery migrate failed: " + migrated.out + migrated.err);
    served = start_serve(env, dir.path() / "serve.out");
}

ServedGallery::~ServedGallery() {
    ::kill(served.pid, SIGTERM);
    wait_process(served.pid);
}

std::string ServedGallery::output() const {
    std::string text;
    for (const char* name : {"serve.out", "serve.out.err"}) {
        std::ifstream file(dir.path() / name);
        text += std::string(std::istreambuf_iterator<char>(file), {});
    }
    return text;
}

httplib::Client ServedGallery::client(std::chrono::seconds timeout) const {
    httplib::Client c("127.0.0.1", served.port);
    c.set_default_headers({{"X-API-Key", env.at("GALLERY_API_KEY")}});
    c.set_read_timeout(timeout);
    c.set_write_timeout(timeout);
    return c;
}

std::int64_t ServedGallery::rss_kib() const {
    return resident_kib(served.pid);
}

std::int64_t ServedGallery::peak_kib() const {
    std::ifstream status("/proc/" + std::to_string(served.pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("VmHWM:")) return std::stoll(line.substr(6));
    }
    return -1;
}

}  // namespace gallery::testing
