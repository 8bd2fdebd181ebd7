#include "gallery/api/background.hpp"

namespace gallery::api {

bool BackgroundRuns::start(std::function<void()> work, std::size_t limit) {
    std::lock_guard lock(m_mutex);
    if (m_active >= limit) return false;
    ++m_active;
    m_threads.emplace_back([this, work = std::move(work)] {
        work();
        std::lock_guard done(m_mutex);
        --m_active;
        m_idle.notify_all();
    });
    return true;
}

std::size_t BackgroundRuns::active() const {
    std::lock_guard lock(m_mutex);
    return m_active;
}

void BackgroundRuns::wait_all() {
    std::vector<std::thread> threads;
    {
        std::unique_lock lock(m_mutex);
        m_idle.wait(lock, [this] { return m_active == 0; });
        threads.swap(m_threads);
    }
    for (std::thread& thread : threads) thread.join();
}

}  // namespace gallery::api
