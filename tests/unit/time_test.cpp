#include <catch2/catch.hpp>
#include <cstdio>
#include <ctime>
#include <random>
#include <vector>

#include "gallery/common/time.hpp"

using namespace gallery;

TEST_CASE("Django's SQLite datetimes parse to UTC microseconds") {
    CHECK(parse_utc_datetime("1970-01-01 00:00:00") == UnixMicros{0});
    CHECK(parse_utc_datetime("2024-05-01 12:34:56.123456") == UnixMicros{1714566896123456});
    CHECK(parse_utc_datetime("2024-05-01T12:34:56.5Z") == UnixMicros{1714566896500000});
    CHECK(parse_utc_datetime("2024-05-01 12:34:56+00:00") == UnixMicros{1714566896000000});
    CHECK(parse_utc_datetime("2024-02-29 00:00:00") == UnixMicros{1709164800000000});
    CHECK(parse_utc_datetime("1969-12-31 23:59:59.999999") == UnixMicros{-1});
    for (const auto& round_trip : {UnixMicros{0}, UnixMicros{1714566896123456}, UnixMicros{-1}}) {
        const std::string text = to_iso8601(round_trip);
        CHECK(parse_utc_datetime(text.substr(0, 26)) == round_trip);
    }
}

TEST_CASE("anything else is not a datetime") {
    for (const char* text :
         {"", "2024-05-01", "2024-05-01 12:34", "2023-02-29 00:00:00", "2024-13-01 00:00:00",
          "2024-04-31 00:00:00", "2024-05-01 24:00:00", "2024-05-01 12:34:56.",
          "2024-05-01 12:34:56+02:00", "2024-05-01 12:34:56.1234567", "2024/05/01 12:34:56",
          "2024-05-01 12:34:56 garbage"}) {
        INFO(text);
        CHECK(!parse_utc_datetime(text));
    }
}

TEST_CASE("to_iso8601 writes what gmtime_r and printf write, from year -9999 to 30000") {
    std::mt19937_64 random{20261207};
    // Mostly years 0 to 9999, some outside (a sign or a fifth digit), and the edges
    // around the epoch, leap days, centuries and year 10000.
    std::uniform_int_distribution<std::int64_t> common(-62'167'219'200'000'000,
                                                       253'402'300'799'999'999);
    std::uniform_int_distribution<std::int64_t> wide(-377'000'000'000'000'000,
                                                     884'000'000'000'000'000);
    std::vector<UnixMicros> times{0,
                                  -1,
                                  1,
                                  951'782'400'000'000,
                                  951'868'799'999'999,
                                  4'107'542'400'000'000,
                                  -62'167'219'200'000'000,
                                  -62'167'219'200'000'001,
                                  253'402'300'799'999'999,
                                  253'402'300'800'000'000};
    for (int i = 0; i < 2'000; ++i) times.push_back(wide(random));
    for (int i = 0; i < 20'000; ++i) times.push_back(common(random));
    for (const UnixMicros t : times) {
        std::int64_t seconds = t / k_micros_per_second;
        std::int64_t micros = t % k_micros_per_second;
        if (micros < 0) {
            micros += k_micros_per_second;
            --seconds;
        }
        const auto as_time_t = static_cast<std::time_t>(seconds);
        std::tm utc{};
        gmtime_r(&as_time_t, &utc);
        char expected[64];
        std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00",
                      utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                      utc.tm_sec, static_cast<long long>(micros));
        CAPTURE(t);
        REQUIRE(to_iso8601(t) == expected);
    }
}
