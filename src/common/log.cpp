#include "gallery/common/log.hpp"
#include "gallery/common/text.hpp"

#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "gallery/common/time.hpp"

namespace gallery::log {
namespace {
std::atomic<Level> g_level{Level::info};
std::atomic<Format> g_format{Format::text};
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

std::string text_line(Level level, std::string_view message, std::initializer_list<Field> fields) {
    std::string line = to_iso8601(now_micros()) + " " + name_of(level) + " ";
    if (!t_request_id.empty()) line += "req=" + t_request_id + " ";
    line += message;
    for (const Field& field : fields) {
        line += " ";
        line += field.name;
        line += "=";
        std::visit(
            [&line](const auto& value) {
                using T = std::decay_t<decltype(value)>;
                if constexpr (std::is_same_v<T, std::string>) {
                    line += value;
                } else if constexpr (std::is_same_v<T, double>) {
                    char text[32];
                    std::snprintf(text, sizeof text, "%.2f", value);
                    line += text;
                } else {
                    line += std::to_string(value);
                }
            },
            field.value);
    }
    return line + "\n";
}

std::string json_line(Level level, std::string_view message, std::initializer_list<Field> fields) {
    nlohmann::ordered_json line;
    line["time"] = to_iso8601(now_micros());
    line["level"] = to_lower(name_of(level));
    if (!t_request_id.empty()) line["request_id"] = t_request_id;
    line["message"] = message;
    for (const Field& field : fields) {
        std::visit([&](const auto& value) { line[std::string(field.name)] = value; }, field.value);
    }
    // Invalid UTF-8 (a hostile client id, say) is replaced, never a throw.
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

void set_level(Level level) {
    g_level = level;
}

void set_format(Format format) {
    g_format = format;
}

void set_request_id(std::string_view id) {
    t_request_id = id;
}

const std::string& request_id() {
    return t_request_id;
}

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
    if (level < g_level.load()) return;
    const std::string line = g_format.load() == Format::json ? json_line(level, message, fields)
                                                             : text_line(level, message, fields);
    // One fwrite per line so lines from several threads do not interleave.
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace gallery::log
