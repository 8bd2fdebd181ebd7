#include "db/sqlite/writer_turn.hpp"

#include <algorithm>
#include <map>
#include <system_error>

namespace gallery::db {
namespace {

// How long a writer giving the turn back runs the jobs of others before it hands the
// turn on: its own answer waits meanwhile, so the bound keeps that wait short.
// Measured (scripts/loadtest, BENCHMARKS.md): without a bound the p99 of every writer
// went from about 20 ms to 85-95 ms in the run with deletes.
constexpr auto k_run_others_for = std::chrono::milliseconds{2};
constexpr int k_run_others_at_most = 8;

}  // namespace

std::shared_ptr<WriterTurn> WriterTurn::for_file(const std::filesystem::path& database) {
    static std::mutex registry_mutex;
    static std::map<std::filesystem::path, std::weak_ptr<WriterTurn>> registry;
    std::error_code ec;
    std::filesystem::path key = std::filesystem::canonical(database, ec);
    if (ec) key = std::filesystem::absolute(database);
    std::lock_guard lock(registry_mutex);
    std::erase_if(registry, [](const auto& entry) { return entry.second.expired(); });
    std::weak_ptr<WriterTurn>& slot = registry[key];
    std::shared_ptr<WriterTurn> turn = slot.lock();
    if (!turn) {
        turn = std::make_shared<WriterTurn>();
        slot = turn;
    }
    return turn;
}

void WriterTurn::wait_in_line(std::unique_lock<std::mutex>& lock, Waiter& me,
                              std::chrono::milliseconds patience) {
    using State = Waiter::State;
    m_waiters.push_back(&me);
    const auto ended = [&] { return me.state == State::granted || me.state == State::done; };
    if (me.wake.wait_for(lock, patience, ended)) return;
    if (me.state == State::running) {
        me.wake.wait(lock, ended);  // patience ran out while the job runs: it finishes
        return;
    }
    // Out of patience: leave the line (nobody took this waiter out of it).
    m_waiters.erase(std::find(m_waiters.begin(), m_waiters.end(), &me));
}

bool WriterTurn::run(FunctionRef job, std::chrono::milliseconds patience) {
    std::unique_lock lock(m_mutex);
    if (m_taken) {
        Waiter me;
        me.job = &job;
        wait_in_line(lock, me, patience);
        if (me.state == Waiter::State::done) return true;
        if (me.state != Waiter::State::granted) return false;
    } else {
        m_taken = true;
    }
    lock.unlock();
    job();
    give_back();
    return true;
}

bool WriterTurn::take(std::chrono::milliseconds patience) {
    std::unique_lock lock(m_mutex);
    if (!m_taken) {
        m_taken = true;
        return true;
    }
    Waiter me;
    wait_in_line(lock, me, patience);
    return me.state == Waiter::State::granted;
}

void WriterTurn::give_back() {
    using State = Waiter::State;
    const auto stop_running_others = std::chrono::steady_clock::now() + k_run_others_for;
    std::unique_lock lock(m_mutex);
    for (int ran = 0; !m_waiters.empty(); ++ran) {
        Waiter* next = m_waiters.front();
        m_waiters.pop_front();
        if (next->job == nullptr || ran == k_run_others_at_most ||
            std::chrono::steady_clock::now() >= stop_running_others) {
            next->state = State::granted;  // m_taken stays true: the turn passes to `next`
            next->wake.notify_one();
            return;
        }
        next->state = State::running;
        lock.unlock();
        (*next->job)();
        lock.lock();
        next->state = State::done;  // `next` may return (and end) once the lock is free
        next->wake.notify_one();
    }
    m_taken = false;
}

std::size_t WriterTurn::waiting() {
    std::lock_guard lock(m_mutex);
    return m_waiters.size();
}

}  // namespace gallery::db
