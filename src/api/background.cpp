#include "gallery/api/background.hpp"

#include <thread>

namespace gallery::api {

bool BackgroundRuns::start(std::function<void()> work, std::size_t limit) {
    std::lock_guard lock(m_mutex);
    if (m_active >= limit) return false;
    ++m_active;
    // Detached, so a finished run leaves nothing behind; wait_all() waits on the count.
    std::thread([this, work = std::move(work)]() mutable {
        work();
        work = nullptr;  // drop its captures before saying it is done
        std::lock_guard done(m_mutex);
        --m_active;
        m_idle.notify_all();
    }).detach();
    return true;
}

void BackgroundRuns::wait_all() {
    std::unique_lock lock(m_mutex);
    m_idle.wait(lock, [this] { return m_active == 0; });
}

}  // namespace gallery::api
