#pragma once
// A stop request for a background thread that works, then waits, in a loop (the WAL
// checkpointer, the in-process cleaner, serve's backups): wait_for ends at once when
// stop() comes, before or during the wait.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace gallery {

class StopSignal {
  public:
    // Waits up to `duration`; true when a stop was requested (then the loop ends).
    template <class Rep, class Period>
    bool wait_for(std::chrono::duration<Rep, Period> duration) {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, duration, [this] { return m_stopping; });
    }

    bool requested() {
        std::lock_guard lock(m_mutex);
        return m_stopping;
    }

    void stop() {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_changed.notify_all();
    }

  private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_stopping = false;
};

}  // namespace gallery
