#include <catch2/catch.hpp>

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
