#include "admin/sign_in_throttle.hpp"

#include <algorithm>

#include "gallery/common/log.hpp"

namespace gallery::admin {

bool SignInThrottle::take(Bucket& bucket, double rate, double burst, Clock::time_point now) {
    const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    if (bucket.updated == Clock::time_point{}) {
        bucket.tokens = burst;
    } else if (elapsed > 0) {
        bucket.tokens = std::min(burst, bucket.tokens + elapsed * rate);
    }
    bucket.updated = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
}

bool SignInThrottle::try_check(const std::string& address, Clock::time_point now) {
    std::lock_guard lock(m_mutex);
    if (m_by_address.size() >= m_limits.max_addresses && !m_by_address.contains(address)) {
        // Forget addresses whose bucket has refilled: they are back to the burst anyway.
        const auto refill = std::chrono::duration<double>(m_limits.per_address_burst /
                                                          m_limits.per_address_per_second);
        std::erase_if(m_by_address,
                      [&](const auto& entry) { return now - entry.second.updated > refill; });
        if (m_by_address.size() >= m_limits.max_addresses) return false;
    }
    Bucket probe_all = m_all;
    if (!take(probe_all, m_limits.per_second, m_limits.burst, now)) {
        m_all = probe_all;
        return false;
    }
    Bucket& mine = m_by_address[address];
    if (!take(mine, m_limits.per_address_per_second, m_limits.per_address_burst, now)) {
        return false;  // the shared bucket keeps its token: this address spent its own
    }
    m_all = probe_all;
    return true;
}

void FailureLog::wrong_password(const std::string& address, SignInThrottle::Clock::time_point now) {
    std::lock_guard lock(m_mutex);
    ++m_wrong;
    m_last_address = address;
    maybe_flush(now);
}

void FailureLog::refused(SignInThrottle::Clock::time_point now) {
    std::lock_guard lock(m_mutex);
    ++m_refused;
    maybe_flush(now);
}

void FailureLog::maybe_flush(SignInThrottle::Clock::time_point now) {
    if (m_since != SignInThrottle::Clock::time_point{} && now - m_since < m_interval) return;
    if (m_wrong > 0 || m_refused > 0) {
        log::warn("admin: " + std::to_string(m_wrong) + " wrong password" +
                  (m_wrong == 1 ? "" : "s") + " (last from " + m_last_address + ") and " +
                  std::to_string(m_refused) + " sign-in attempt" + (m_refused == 1 ? "" : "s") +
                  " refused unchecked (too many) in the last " +
                  std::to_string(m_interval.count()) + " s");
    }
    m_wrong = 0;
    m_refused = 0;
    m_since = now;
}

}  // namespace gallery::admin
