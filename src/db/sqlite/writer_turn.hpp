#pragma once
// One writer at a time per database file inside this process, in arrival order.
//
// SQLite lets one connection write at a time. Without this, the connections of one
// process (serve's request threads, its built-in cleaner) would meet in SQLite's busy
// handler, which sleeps and retries with no order, so a writer could lose to later
// arrivals again and again. With it, each write transaction first waits for its turn
// here (FIFO) and then begins; SQLite's busy handler is left to the other processes
// (a cron `gallery cleanup` beside serve).
//
// A writer that gives the turn back first runs the transactions waiting behind it that
// came as jobs (db::write's), on its own thread and in their order, and only then
// hands the turn on. Handing the turn to a sleeping thread costs a wake-up (about half
// a millisecond on two busy cores, measured: as long as the mean transaction), during
// which nobody writes; the giver is already running. A waiter's connection is not in
// use while its owner waits, so the giver can run the job on it.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>

#include "gallery/common/function_ref.hpp"

namespace gallery::db {

class WriterTurn {
  public:
    // The turn shared by every connection of this process to `database` (found by
    // its canonical path, so two spellings of one file share one turn).
    static std::shared_ptr<WriterTurn> for_file(const std::filesystem::path& database);

    // Runs `job` in the turn: at once when the turn is free, else after every writer
    // that arrived earlier, on this thread or on the thread of the writer before it.
    // Returns when `job` has run. Returns false, without running it, when `patience`
    // ran out before its turn came. `job` must not throw.
    bool run(FunctionRef job, std::chrono::milliseconds patience);

    // For a writer that is not a job (a transaction held by an object): waits until
    // every writer that arrived earlier has given its turn back. Returns false,
    // without the turn, when `patience` ran out first.
    bool take(std::chrono::milliseconds patience);
    // Runs the jobs waiting (up to a bound), then hands the turn to the next waiter.
    void give_back();
    // Writers waiting for the turn now (for tests and diagnostics).
    std::size_t waiting();

  private:
    struct Waiter {
        enum class State { waiting, granted, running, done };
        const FunctionRef* job = nullptr;  // null: the waiter runs its own transaction
        std::condition_variable wake;
        State state = State::waiting;
    };

    // Waits in line; on return `me` is granted (the caller holds the turn) or done
    // (its job ran), or still waiting when patience ran out (it has left the line).
    void wait_in_line(std::unique_lock<std::mutex>& lock, Waiter& me,
                      std::chrono::milliseconds patience);

    std::mutex m_mutex;
    bool m_taken = false;
    std::deque<Waiter*> m_waiters;
};

}  // namespace gallery::db
