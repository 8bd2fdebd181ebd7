// The sign-in throttle on a clock the test sets: which checks are granted is decided
// by the buckets alone, whatever the password turns out to be.

#include <catch2/catch.hpp>

#include "admin/sign_in_throttle.hpp"

using gallery::admin::SignInThrottle;
using namespace std::chrono_literals;

namespace {

const SignInThrottle::Clock::time_point k_start{1000s};

int granted(SignInThrottle& throttle, const std::string& address, int attempts,
            SignInThrottle::Clock::time_point now) {
    int checks = 0;
    for (int i = 0; i < attempts; ++i) checks += throttle.try_check(address, now) ? 1 : 0;
    return checks;
}

}  // namespace

TEST_CASE("one address gets its burst then one check per second however hard it asks") {
    SignInThrottle throttle;
    CHECK(granted(throttle, "10.0.0.1", 40, k_start) == 3);
    // Still within the second: the right password would be refused unchecked too.
    CHECK_FALSE(throttle.try_check("10.0.0.1", k_start + 999ms));
    CHECK(granted(throttle, "10.0.0.1", 40, k_start + 1000ms) == 1);
    // Refusals do not delay the refill.
    CHECK(granted(throttle, "10.0.0.1", 40, k_start + 2500ms) == 1);
    CHECK(granted(throttle, "10.0.0.1", 40, k_start + 3000ms) == 1);
}

TEST_CASE("many addresses share the server-wide budget") {
    SignInThrottle throttle;
    int checks = 0;
    for (int address = 0; address < 50; ++address)
        checks += granted(throttle, "10.0.1." + std::to_string(address), 3, k_start);
    CHECK(checks == 5);  // the shared burst
    checks = 0;
    for (int address = 50; address < 100; ++address)
        checks += granted(throttle, "10.0.1." + std::to_string(address), 1, k_start + 1s);
    CHECK(checks == 5);  // five per second for everyone together
}

TEST_CASE("the per-address table is bounded and forgets addresses that have refilled") {
    SignInThrottle throttle({.per_second = 1e9, .burst = 1e9, .max_addresses = 4});
    for (int address = 0; address < 4; ++address)
        CHECK(throttle.try_check("10.0.2." + std::to_string(address), k_start));
    CHECK_FALSE(throttle.try_check("10.0.2.99", k_start));  // full, nobody refilled yet
    CHECK(throttle.try_check("10.0.2.99", k_start + 4s));   // the others have refilled
}
