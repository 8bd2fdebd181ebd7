#pragma once
// Retry scheduling: exponential backoff with full jitter on top of a floor. The
// floor keeps a failing key from being retried within the same long cleanup run.

#include <chrono>
#include <random>

#include "gallery/common/time.hpp"

namespace gallery::queue {

struct BackoffPolicy {
    std::chrono::seconds floor{30};
    std::chrono::seconds base{60};
    std::chrono::seconds cap{3600};
};

// Delay before attempt number `failures + 1`: floor + uniform(0, min(cap, base * 2^(failures-1))).
// `failures` counts failures so far (>= 1).
UnixMicros backoff_delay(const BackoffPolicy& policy, int failures, std::mt19937_64& random);

}  // namespace gallery::queue
