#pragma once
// Time is stored everywhere as microseconds since the Unix epoch, UTC
// (an INTEGER column in SQLite), and rendered ISO-8601 only at the edges.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gallery {

using UnixMicros = std::int64_t;

inline constexpr UnixMicros k_micros_per_second = 1'000'000;

UnixMicros now_micros();

// "2026-01-05T16:55:00.123456+00:00", the form API.md uses.
std::string to_iso8601(UnixMicros t);
// The same text appended to `out`, with no string of its own (a list answer writes 100).
void append_iso8601(std::string& out, UnixMicros t);

// The whole second of `t` in UTC through strftime's `format` ("%Y%m%dT%H%M%SZ" for
// SigV4 and backup names, the HTTP date of Last-Modified).
std::string format_utc(UnixMicros t, const char* format);

// A UTC date and time as Django writes them into SQLite ("2024-05-01 12:34:56.123456",
// the fraction optional, 1 to 6 digits), also with 'T' and a "Z" or "+00:00" suffix;
// nullopt for anything else (another offset included).
std::optional<UnixMicros> parse_utc_datetime(std::string_view text);

// A clock passed into code that schedules work, so tests can move time.
using Clock = std::function<UnixMicros()>;

inline Clock system_clock() {
    return [] { return now_micros(); };
}

}  // namespace gallery
