#pragma once
// Work that outlives the request that started it: a cleanup run past its request's
// time budget goes on here, holding its leases, and the server waits for it at
// shutdown (destroying this waits too).

#include <condition_variable>
#include <functional>
#include <mutex>

namespace gallery::api {

class BackgroundRuns {
  public:
    BackgroundRuns() = default;
    BackgroundRuns(const BackgroundRuns&) = delete;
    BackgroundRuns& operator=(const BackgroundRuns&) = delete;
    ~BackgroundRuns() { wait_all(); }

    // Starts `work` on its own thread unless `limit` runs are active already
    // (returns false then, and `work` is not run).
    bool start(std::function<void()> work, std::size_t limit);
    void wait_all();

  private:
    mutable std::mutex m_mutex;
    std::condition_variable m_idle;
    std::size_t m_active = 0;
};

}  // namespace gallery::api
