#include "db/sqlite/writer_turn.hpp"

#include <algorithm>
#include <map>
#include <system_error>

namespace gallery::db {

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

bool WriterTurn::take(std::chrono::milliseconds patience) {
    std::unique_lock lock(m_mutex);
    if (!m_taken) {
        m_taken = true;
        return true;
    }
    Waiter me;
    m_waiters.push_back(&me);
    if (me.wake.wait_for(lock, patience, [&] { return me.granted; })) return true;
    // Out of patience: leave the line (the turn was not handed to this waiter).
    m_waiters.erase(std::find(m_waiters.begin(), m_waiters.end(), &me));
    return false;
}

void WriterTurn::give_back() {
    std::lock_guard lock(m_mutex);
    if (m_waiters.empty()) {
        m_taken = false;
        return;
    }
    Waiter* next = m_waiters.front();
    m_waiters.pop_front();
    next->granted = true;  // m_taken stays true: the turn passes straight to `next`
    next->wake.notify_one();
}

std::size_t WriterTurn::waiting() {
    std::lock_guard lock(m_mutex);
    return m_waiters.size();
}

}  // namespace gallery::db
