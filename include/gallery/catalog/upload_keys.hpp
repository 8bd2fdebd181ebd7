#pragma once
// Storage keys for uploads, each already covered by an upload intent (ARCHITECTURE.md,
// invariant 3). Keys are reserved in batches, one write transaction per batch, so an
// upload takes no write transaction before its object is stored: only the one that
// writes its row (and clears its intent). Under load that halves the writes an upload
// waits for (BENCHMARKS.md, issue 19).
//
// A reserved intent has no client (""): if its upload crashes, cleanup queues its key
// without one. Keys not handed out within `unused_for` of their reservation are released
// (their intents dropped, in one write transaction), as are all of them when the object
// is destroyed. After a crash the unreleased ones expire like any crashed upload's
// intent and cleanup queues them; nothing is stored under them, so their deletes find
// nothing, which counts as gone.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"
#include "gallery/db/connection.hpp"
#include "gallery/db/pool.hpp"

namespace gallery::catalog {

struct UploadKey {
    std::string filename;     // <uuid4><extension>
    std::string storage_key;  // images/<filename>
};

class UploadKeys {
  public:
    struct Options {
        std::size_t batch = 16;
        // A key is handed out within this long of its reservation, so its intent has
        // nearly all of k_upload_intent_lifetime left; older ones are released.
        std::chrono::milliseconds unused_for{30'000};
        Clock clock = system_clock();
    };

    // `pool` must outlive this object: its releases run on a connection from it.
    explicit UploadKeys(db::ConnectionPool& pool) : UploadKeys(pool, Options{}) {}
    UploadKeys(db::ConnectionPool& pool, Options options);
    ~UploadKeys();
    UploadKeys(const UploadKeys&) = delete;
    UploadKeys& operator=(const UploadKeys&) = delete;

    // A key for one upload of a file with `extension` (".jpg"), never given before.
    // Reserves a batch on `connection` when none is left (other callers for the same
    // extension wait for that batch instead of reserving their own). Errors: database.
    Result<UploadKey> take(db::Connection& connection, std::string_view extension);

    // Keys reserved and not handed out yet (what the tests observe).
    std::size_t unused() const;

  private:
    struct Reserved {
        UploadKey key;
        UnixMicros reserved_at = 0;
    };
    struct Shelf {
        std::deque<Reserved> keys;
        bool refilling = false;
    };

    // Moves the keys of `shelf` older than unused_for to `m_expired`. Holds m_mutex.
    void retire_old_keys(Shelf& shelf, UnixMicros now);
    Result<std::vector<Reserved>> reserve_batch(db::Connection& connection,
                                                std::string_view extension, UnixMicros now) const;
    // Drops the intents of `keys` (taken from m_expired or the shelves) on a pooled
    // connection; a failure is logged, and cleanup queues those keys when they expire.
    void release(const std::vector<std::string>& keys);
    // The releaser thread: every unused_for / 2 releases the keys older than unused_for;
    // once stopped, every unused key.
    void release_old_keys_periodically(std::stop_token stop);

    db::ConnectionPool& m_pool;
    const Options m_options;
    mutable std::mutex m_mutex;
    std::condition_variable m_refilled;
    std::map<std::string, Shelf, std::less<>> m_shelves;  // by extension
    std::vector<std::string> m_expired;                   // storage keys to release
    std::condition_variable_any m_releaser_sleep;         // woken only by the stop request
    std::jthread m_releaser;  // last: started once the members above exist
};

}  // namespace gallery::catalog
