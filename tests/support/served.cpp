#include "support/served.hpp"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/process.hpp"

namespace gallery::testing {

std::string read_text_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

ServedProcess start_serve(const std::map<std::string, std::string>& env,
                          const std::filesystem::path& out) {
    const pid_t pid =
        start_process({GALLERY_BINARY, "serve", "--port", "0"}, {.environment = env}, out.string());
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

}  // namespace gallery::testing
