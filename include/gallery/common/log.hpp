#pragma once
// One line per event on standard error, as text
//   2026-01-05T16:55:00.123456+00:00 INFO req=<id> message key=value ...
// or as one JSON object per line (--log-format json)
//   {"time":"...","level":"info","request_id":"<id>","message":"...","key":value}
// Callers never pass secrets (redact them with config::redact first).

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace gallery::log {

enum class Level { debug, info, warn, error };
enum class Format { text, json };

// A named value on a log line (a number stays a number in JSON).
struct Field {
    std::string_view name;
    std::variant<std::string, std::int64_t, double> value;
};

void set_level(Level level);
void set_format(Format format);
// Tags every line this thread writes (" req=<id>") until cleared with "".
void set_request_id(std::string_view id);
// This thread's request id ("" when none).
const std::string& request_id();
void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});
inline void debug(std::string_view message, std::initializer_list<Field> fields = {}) {
    write(Level::debug, message, fields);
}
inline void info(std::string_view message, std::initializer_list<Field> fields = {}) {
    write(Level::info, message, fields);
}
inline void warn(std::string_view message, std::initializer_list<Field> fields = {}) {
    write(Level::warn, message, fields);
}
inline void error(std::string_view message, std::initializer_list<Field> fields = {}) {
    write(Level::error, message, fields);
}

}  // namespace gallery::log
