#include "gallery/common/time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace gallery {

UnixMicros now_micros() {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string to_iso8601(UnixMicros t) {
    // Floor division so times before 1970 still render correctly.
    std::int64_t seconds = t / k_micros_per_second;
    std::int64_t micros = t % k_micros_per_second;
    if (micros < 0) {
        micros += k_micros_per_second;
        --seconds;
    }
    const auto as_time_t = static_cast<std::time_t>(seconds);
    std::tm utc{};
    gmtime_r(&as_time_t, &utc);
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00",
                  utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                  utc.tm_sec, static_cast<long long>(micros));
    return text;
}

}  // namespace gallery
