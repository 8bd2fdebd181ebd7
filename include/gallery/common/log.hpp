#pragma once
// One line per event on standard error: "2026-01-05T16:55:00.123456+00:00 WARN message".
// Callers never pass secrets (redact them with config::redact first).

#include <string_view>

namespace gallery::log {

enum class Level { debug, info, warn, error };

void set_level(Level level);
// Tags every line this thread writes (" req=<id>") until cleared with "".
void set_request_id(std::string_view id);
void write(Level level, std::string_view message);
inline void debug(std::string_view message) {
    write(Level::debug, message);
}
inline void info(std::string_view message) {
    write(Level::info, message);
}
inline void warn(std::string_view message) {
    write(Level::warn, message);
}
inline void error(std::string_view message) {
    write(Level::error, message);
}

}  // namespace gallery::log
