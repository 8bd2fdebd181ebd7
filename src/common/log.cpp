#include "gallery/common/log.hpp"

#include <atomic>
#include <cstdio>
#include <string>

#include "gallery/common/time.hpp"

namespace gallery::log {
namespace {
std::atomic<Level> g_level{Level::info};
thread_local std::string t_request_id;

const char* name_of(Level level) {
    switch (level) {
        case Level::debug:
            return "DEBUG";
        case Level::info:
            return "INFO";
        case Level::warn:
            return "WARN";
        case Level::error:
            return "ERROR";
    }
    return "?";
}
}  // namespace

void set_level(Level level) {
    g_level = level;
}

void set_request_id(std::string_view id) {
    t_request_id = id;
}

void write(Level level, std::string_view message) {
    if (level < g_level.load()) return;
    std::string line = to_iso8601(now_micros()) + " " + name_of(level) + " ";
    if (!t_request_id.empty()) line += "req=" + t_request_id + " ";
    line += std::string(message) + "\n";
    // One fwrite per line so lines from several threads do not interleave.
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace gallery::log
