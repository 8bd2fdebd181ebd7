#include "gallery/db/pool.hpp"

#include <algorithm>
#include <utility>

namespace gallery::db {

ConnectionPool::ConnectionPool(const ConnectionOptions& options, std::size_t size,
                               std::optional<std::chrono::milliseconds> wait)
    : m_options(options), m_size(std::max<std::size_t>(size, 1)), m_wait(wait) {
    const std::size_t opened_now = m_options.postgresql_url.empty() ? 1 : m_size;
    for (std::size_t i = 0; i < opened_now; ++i) {
        m_all.push_back(std::make_unique<Connection>(m_options));
        m_free.push_back(m_all.back().get());
    }
}

ConnectionPool::Lease ConnectionPool::acquire() {
    std::unique_lock lock(m_mutex);
    ++m_stats.acquires;
    if (m_free.empty() && m_all.size() + m_opening < m_size) {
        ++m_opening;
        lock.unlock();
        std::unique_ptr<Connection> opened;
        try {
            opened = std::make_unique<Connection>(m_options);
        } catch (...) {
            lock.lock();
            --m_opening;
            throw;
        }
        lock.lock();
        --m_opening;
        m_all.push_back(std::move(opened));
        return Lease(*this, m_all.back().get());
    }
    if (m_free.empty()) {
        const auto free = [this] { return !m_free.empty(); };
        const auto started = std::chrono::steady_clock::now();
        ++m_stats.waiting;
        ++m_stats.waits;
        bool got = true;
        if (m_wait)
            got = m_available.wait_for(lock, *m_wait, free);
        else
            m_available.wait(lock, free);
        --m_stats.waiting;
        const double waited =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        m_stats.wait_seconds_sum += waited;
        for (std::size_t i = 0; i < k_wait_buckets.size(); ++i) {
            if (waited <= k_wait_buckets[i]) ++m_stats.wait_buckets[i];
        }
        if (!got) {
            ++m_stats.timeouts;
            throw PoolTimeout(*m_wait);
        }
    }
    Connection* connection = m_free.back();
    m_free.pop_back();
    lock.unlock();
    connection->reopen_if_broken();
    return Lease(*this, connection);
}

ConnectionPool::WaitStats ConnectionPool::wait_stats() const {
    std::lock_guard lock(m_mutex);
    WaitStats stats = m_stats;
    stats.size = m_size;
    stats.in_use = m_all.size() + m_opening - m_free.size();
    return stats;
}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : m_pool(std::exchange(other.m_pool, nullptr)),
      m_connection(std::exchange(other.m_connection, nullptr)) {}

ConnectionPool::Lease::~Lease() {
    if (!m_pool) return;
    {
        std::lock_guard lock(m_pool->m_mutex);
        m_pool->m_free.push_back(m_connection);
    }
    m_pool->m_available.notify_one();
}

}  // namespace gallery::db
