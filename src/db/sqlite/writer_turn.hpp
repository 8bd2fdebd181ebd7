#pragma once
// One writer at a time per database file inside this process, in arrival order.
//
// SQLite lets one connection write at a time. Without this, the connections of one
// process (serve's request threads, its built-in cleaner) would meet in SQLite's busy
// handler, which sleeps and retries with no order, so a writer could lose to later
// arrivals again and again. With it, each write transaction first waits for its turn
// here (FIFO) and then begins; SQLite's busy handler is left to the other processes
// (a cron `gallery cleanup` beside serve).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>

namespace gallery::db {

class WriterTurn {
  public:
    // The turn shared by every connection of this process to `database` (found by
    // its canonical path, so two spellings of one file share one turn).
    static std::shared_ptr<WriterTurn> for_file(const std::filesystem::path& database);

    // Waits until every writer that arrived earlier has given its turn back. Returns
    // false, without the turn, when `patience` ran out first.
    bool take(std::chrono::milliseconds patience);
    // Hands the turn to the longest waiting writer, if any.
    void give_back();
    // Writers waiting for the turn now (for tests and diagnostics).
    std::size_t waiting();

  private:
    struct Waiter {
        std::condition_variable wake;
        bool granted = false;
    };

    std::mutex m_mutex;
    bool m_taken = false;
    std::deque<Waiter*> m_waiters;
};

}  // namespace gallery::db
