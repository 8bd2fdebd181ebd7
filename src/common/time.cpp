#include "gallery/common/time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string_view>

namespace gallery {

UnixMicros now_micros() {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_utc(UnixMicros t, const char* format) {
    const auto seconds = static_cast<std::time_t>(t / k_micros_per_second);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[64];
    const std::size_t length = std::strftime(text, sizeof text, format, &utc);
    return std::string(text, length);
}

std::string to_iso8601(UnixMicros t) {
    std::string text;
    append_iso8601(text, t);
    return text;
}

void append_iso8601(std::string& out, UnixMicros t) {
    // Floor division so times before 1970 still render correctly.
    std::int64_t seconds = t / k_micros_per_second;
    std::int64_t micros = t % k_micros_per_second;
    if (micros < 0) {
        micros += k_micros_per_second;
        --seconds;
    }
    std::int64_t days = seconds / 86'400;
    std::int64_t of_day = seconds % 86'400;
    if (of_day < 0) {
        of_day += 86'400;
        --days;
    }
    // The calendar by arithmetic (std::chrono's civil calendar), not gmtime_r and
    // snprintf: those take the time zone lock and the stdio machinery, and a list
    // answer writes 100 of these (issue 40).
    const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{days}}};
    const int year = static_cast<int>(date.year());
    constexpr std::string_view k_pattern = "0000-00-00T00:00:00.000000+00:00";
    char text[48];
    std::size_t shift = 0;  // the date's end moves with the year's width
    const bool four_digits = year >= 0 && year <= 9999;
    if (four_digits) {
        k_pattern.copy(text, k_pattern.size());
    } else {
        // As printf's %04d writes it: a sign, or a fifth digit.
        const int length = std::snprintf(text, 16, "%04d", year);
        shift = static_cast<std::size_t>(length) - 4;
        k_pattern.substr(4).copy(text + length, k_pattern.size() - 4);
    }
    const auto put = [&text](std::size_t end, std::int64_t value, int digits) {
        for (; digits > 0; --digits, value /= 10) text[--end] = static_cast<char>('0' + value % 10);
    };
    if (four_digits) put(4, year, 4);
    put(shift + 7, static_cast<unsigned>(date.month()), 2);
    put(shift + 10, static_cast<unsigned>(date.day()), 2);
    put(shift + 13, of_day / 3600, 2);
    put(shift + 16, of_day / 60 % 60, 2);
    put(shift + 19, of_day % 60, 2);
    put(shift + 26, micros, 6);
    out.append(text, k_pattern.size() + shift);
}

namespace {

// Days from 1970-01-01 to year-month-day in the proleptic Gregorian calendar
// (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
    year -= month <= 2;
    const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
    const auto year_of_era = static_cast<unsigned>(year - era * 400);
    const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const unsigned day_of_era =
        year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

// Reads exactly `count` digits at `at`, advancing it.
std::optional<int> digits(std::string_view text, std::size_t& at, std::size_t count) {
    if (at + count > text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const char c = text[at + i];
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    at += count;
    return value;
}

bool expect(std::string_view text, std::size_t& at, std::string_view characters) {
    if (at >= text.size() || characters.find(text[at]) == std::string_view::npos) return false;
    ++at;
    return true;
}

}  // namespace

std::optional<UnixMicros> parse_utc_datetime(std::string_view text) {
    std::size_t at = 0;
    const auto year = digits(text, at, 4);
    if (!year || !expect(text, at, "-")) return std::nullopt;
    const auto month = digits(text, at, 2);
    if (!month || !expect(text, at, "-")) return std::nullopt;
    const auto day = digits(text, at, 2);
    if (!day || !expect(text, at, " T")) return std::nullopt;
    const auto hour = digits(text, at, 2);
    if (!hour || !expect(text, at, ":")) return std::nullopt;
    const auto minute = digits(text, at, 2);
    if (!minute || !expect(text, at, ":")) return std::nullopt;
    const auto second = digits(text, at, 2);
    if (!second) return std::nullopt;
    static constexpr int k_days_in_month[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (*month < 1 || *month > 12 || *day < 1 || *day > k_days_in_month[*month - 1] || *hour > 23 ||
        *minute > 59 || *second > 59) {
        return std::nullopt;
    }
    std::int64_t micros = 0;
    if (at < text.size() && text[at] == '.') {
        ++at;
        std::size_t count = 0;
        while (at < text.size() && count < 6 && text[at] >= '0' && text[at] <= '9') {
            micros = micros * 10 + (text[at++] - '0');
            ++count;
        }
        if (count == 0) return std::nullopt;
        for (; count < 6; ++count) micros *= 10;
    }
    const std::string_view zone = text.substr(at);
    if (!zone.empty() && zone != "Z" && zone != "+00:00") return std::nullopt;
    const std::int64_t days =
        days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
    if (*month == 2 && *day == 29 && days_from_civil(*year, 3, 1) - days != 1) return std::nullopt;
    return ((days * 24 + *hour) * 60 + *minute) * 60 * k_micros_per_second +
           static_cast<std::int64_t>(*second) * k_micros_per_second + micros;
}

}  // namespace gallery
