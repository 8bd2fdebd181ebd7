#include "gallery/db/pool.hpp"

#include <algorithm>
#include <utility>

namespace gallery::db {

ConnectionPool::ConnectionPool(const ConnectionOptions& options, std::size_t size)
    : m_options(options), m_size(std::max<std::size_t>(size, 1)) {
    const std::size_t opened_now = m_options.postgresql_url.empty() ? 1 : m_size;
    for (std::size_t i = 0; i < opened_now; ++i) {
        m_all.push_back(std::make_unique<Connection>(m_options));
        m_free.push_back(m_all.back().get());
    }
}

ConnectionPool::Lease ConnectionPool::acquire() {
    std::unique_lock lock(m_mutex);
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
    m_available.wait(lock, [this] { return !m_free.empty(); });
    Connection* connection = m_free.back();
    m_free.pop_back();
    return Lease(*this, connection);
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
