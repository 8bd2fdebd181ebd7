#include "gallery/common/log.hpp"

#include <atomic>
#include <cstdio>
#include <string>

#include "gallery/common/time.hpp"

namespace gallery::log {
namespace {
std::atomic<Level> g_level{Level::info};

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

void write(Level level, std::string_view message) {
    if (level < g_level.load()) return;
    // One fwrite per line so lines from several threads do not interleave.
    const std::string line =
        to_iso8601(now_micros()) + " " + name_of(level) + " " + std::string(message) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace gallery::log
