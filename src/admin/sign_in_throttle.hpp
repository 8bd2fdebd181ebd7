#pragma once
// How many password checks the sign-in form may make: token buckets, one for all
// callers and one per client address, consulted before a password is compared, so
// parallel guesses cannot buy checks (the excess is answered 429, unchecked).

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace gallery::admin {

class SignInThrottle {
  public:
    using Clock = std::chrono::steady_clock;

    struct Limits {
        double per_second = 5;  // for all callers together
        double burst = 5;
        double per_address_per_second = 1;
        double per_address_burst = 3;
        std::size_t max_addresses = 10'000;  // the per-address map is bounded
    };

    explicit SignInThrottle(Limits limits) : m_limits(limits) {}
    SignInThrottle() : SignInThrottle(Limits{}) {}

    // Takes one check for `address` if both buckets have one; false: refuse unchecked.
    bool try_check(const std::string& address, Clock::time_point now);

  private:
    struct Bucket {
        double tokens = 0;
        Clock::time_point updated;
    };
    static bool take(Bucket& bucket, double rate, double burst, Clock::time_point now);

    Limits m_limits;
    std::mutex m_mutex;
    Bucket m_all{m_limits.burst, Clock::time_point{}};
    std::map<std::string, Bucket> m_by_address;
};

// Counts wrong passwords and logs them at most once per interval, not once each.
class FailureLog {
  public:
    explicit FailureLog(std::chrono::seconds interval) : m_interval(interval) {}
    void wrong_password(const std::string& address, SignInThrottle::Clock::time_point now);
    void refused(SignInThrottle::Clock::time_point now);

  private:
    void maybe_flush(SignInThrottle::Clock::time_point now);

    std::chrono::seconds m_interval;
    std::mutex m_mutex;
    SignInThrottle::Clock::time_point m_since{};
    std::size_t m_wrong = 0;
    std::size_t m_refused = 0;
    std::string m_last_address;
};

}  // namespace gallery::admin
