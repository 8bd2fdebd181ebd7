#include "gallery/queue/backoff.hpp"

#include <algorithm>

namespace gallery::queue {

UnixMicros backoff_delay(const BackoffPolicy& policy, int failures, std::mt19937_64& random) {
    const auto to_micros = [](std::chrono::seconds s) {
        return static_cast<UnixMicros>(s.count()) * k_micros_per_second;
    };
    const int doublings = std::clamp(failures - 1, 0, 30);
    const UnixMicros ceiling = std::min(to_micros(policy.cap), to_micros(policy.base) << doublings);
    std::uniform_int_distribution<UnixMicros> jitter(0, std::max<UnixMicros>(ceiling, 0));
    return to_micros(policy.floor) + jitter(random);
}

}  // namespace gallery::queue
