#include "gallery/catalog/upload_keys.hpp"

#include <algorithm>

#include "gallery/catalog/upload.hpp"
#include "gallery/common/log.hpp"
#include "gallery/common/random.hpp"
#include "gallery/queue/reconcile.hpp"

namespace gallery::catalog {

UploadKeys::UploadKeys(db::ConnectionPool& pool, Options options)
    : m_pool(pool), m_options(std::move(options)) {
    m_releaser =
        std::jthread([this](std::stop_token stop) { release_old_keys_periodically(stop); });
}

UploadKeys::~UploadKeys() {
    // The releaser drops every unused key's intent before it ends: on its own thread,
    // whose thread-locals (the log's request id) are alive even when this object is
    // destroyed by exit(), after the main thread's were.
    m_releaser.request_stop();
    m_releaser.join();
}

Result<UploadKey> UploadKeys::take(db::Connection& connection, std::string_view extension) {
    std::unique_lock lock(m_mutex);
    auto found = m_shelves.find(extension);
    if (found == m_shelves.end()) found = m_shelves.emplace(std::string(extension), Shelf{}).first;
    Shelf& shelf = found->second;  // map nodes stay put while the lock is released
    for (;;) {
        retire_old_keys(shelf, m_options.clock());
        if (!shelf.keys.empty()) {
            UploadKey key = std::move(shelf.keys.front().key);
            shelf.keys.pop_front();
            return key;
        }
        if (!shelf.refilling) break;
        m_refilled.wait(lock);
    }
    shelf.refilling = true;
    lock.unlock();
    auto batch = reserve_batch(connection, extension, m_options.clock());
    lock.lock();
    shelf.refilling = false;
    m_refilled.notify_all();
    if (!batch) return std::unexpected(batch.error());
    UploadKey mine = std::move(batch->front().key);
    std::move(batch->begin() + 1, batch->end(), std::back_inserter(shelf.keys));
    return mine;
}

std::size_t UploadKeys::unused() const {
    const std::scoped_lock lock(m_mutex);
    std::size_t count = 0;
    for (const auto& [extension, shelf] : m_shelves) count += shelf.keys.size();
    return count;
}

void UploadKeys::retire_old_keys(Shelf& shelf, UnixMicros now) {
    const UnixMicros oldest_usable =
        now - std::chrono::duration_cast<std::chrono::microseconds>(m_options.unused_for).count();
    while (!shelf.keys.empty() && shelf.keys.front().reserved_at < oldest_usable) {
        m_expired.push_back(std::move(shelf.keys.front().key.storage_key));
        shelf.keys.pop_front();
    }
}

Result<std::vector<UploadKeys::Reserved>> UploadKeys::reserve_batch(db::Connection& connection,
                                                                    std::string_view extension,
                                                                    UnixMicros now) const {
    std::vector<Reserved> batch(std::max<std::size_t>(m_options.batch, 1));
    std::vector<std::string> keys;
    keys.reserve(batch.size());
    for (Reserved& reserved : batch) {
        reserved.key.filename = uuid4() + std::string(extension);
        reserved.key.storage_key = "images/" + reserved.key.filename;
        reserved.reserved_at = now;
        keys.push_back(reserved.key.storage_key);
    }
    if (auto recorded =
            queue::record_intents(connection, keys, "", now, now + k_upload_intent_lifetime);
        !recorded) {
        return std::unexpected(recorded.error());
    }
    return batch;
}

void UploadKeys::release(const std::vector<std::string>& keys) {
    if (keys.empty()) return;
    auto dropped = [&]() -> Result<void> {
        try {
            auto connection = m_pool.acquire();
            return queue::drop_intents(*connection, keys);
        } catch (const std::exception& e) {
            return std::unexpected(Error{ErrorKind::database, e.what()});
        }
    }();
    if (!dropped) {
        log::warn("could not release " + std::to_string(keys.size()) +
                  " reserved upload keys; cleanup queues them when their intents expire: " +
                  dropped.error().message);
    }
}

void UploadKeys::release_old_keys_periodically(std::stop_token stop) {
    const auto period = std::max(m_options.unused_for / 2, std::chrono::milliseconds{10});
    std::unique_lock lock(m_mutex);
    while (!stop.stop_requested()) {
        m_releaser_sleep.wait_for(lock, stop, period, [] { return false; });
        if (stop.stop_requested()) break;
        const UnixMicros now = m_options.clock();
        for (auto& [extension, shelf] : m_shelves) retire_old_keys(shelf, now);
        if (m_expired.empty()) continue;
        std::vector<std::string> keys = std::move(m_expired);
        m_expired.clear();
        lock.unlock();
        release(keys);
        lock.lock();
    }
    // Stopping: nobody takes a key any more, so every unused one goes.
    std::vector<std::string> keys = std::move(m_expired);
    for (auto& [extension, shelf] : m_shelves) {
        for (Reserved& reserved : shelf.keys) keys.push_back(std::move(reserved.key.storage_key));
        shelf.keys.clear();
    }
    lock.unlock();
    release(keys);
}

}  // namespace gallery::catalog
