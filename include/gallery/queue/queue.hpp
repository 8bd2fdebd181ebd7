#pragma once
// The deletion queue: storage keys whose image rows are gone and whose objects must
// be deleted. See ARCHITECTURE.md, "The deletion queue: invariants".
//
// Rows are claimed with a lease (owner + expiry) and finished only by the owner
// that still holds the lease, so overlapping workers never process a row at once
// and a killed worker's rows come back when its lease runs out.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"
#include "gallery/db/connection.hpp"
#include "gallery/db/statement.hpp"

namespace gallery::queue {

using ItemId = std::int64_t;

struct EnqueueRequest {
    std::string key;
    std::string client_id;
    std::optional<std::uint64_t> size_bytes;
};

struct Item {
    ItemId id = 0;
    std::string key;
    std::string client_id;
    int attempts = 0;
    std::optional<std::uint64_t> size_bytes;
};

// Queues one key; false when the key was already pending. Inside a caller's db::write
// it commits or rolls back with the caller's other changes.
Result<bool> enqueue(db::Connection& connection, const EnqueueRequest& request, UnixMicros now);

// Queues every key or none (one transaction); returns how many were newly queued
// (a key already pending counts once and is not queued again).
Result<std::size_t> enqueue_all(db::Connection& connection,
                                std::span<const EnqueueRequest> requests, UnixMicros now);

// A queued deletion carried over from another system (the original's
// assets_pendingfiledeletion rows) with its own history.
struct CarriedOver {
    std::string key;
    std::string client_id;
    UnixMicros queued_at = 0;
    int attempts = 0;
    std::optional<std::string> last_error;
};

enum class CarryOutcome {
    queued,
    already_pending,  // the key is pending here already
    already_deleted,  // a receipt says its object went after the row was queued
};

// Queues each row due now with its queued_at, attempts and last_error, under the
// queue's rules: a key pending already is not queued twice, and a key whose object a
// cleaner here deleted after the row was queued is not queued again. The caller
// checks that no live image references the keys. Inside a caller's db::write it
// commits or rolls back with the caller's other changes.
// One outcome per row, in order.
Result<std::vector<CarryOutcome>> carry_over(db::Connection& connection,
                                             std::span<const CarriedOver> rows, UnixMicros now);

// "host:pid:random": unique per process, readable in the admin pages. A cleaner leases
// under "<this>:run-N", one name per run (cleanup::Cleaner::run).
std::string make_lease_owner();

// Claims up to `limit` due pending rows for `owner` until `lease_expires_at`. First
// makes up to `limit` restorable rows whose window has ended pending (they are no
// longer restorable from then on).
// With `hold_queued_after` (restore-safe deletion: the oldest retained backup's time),
// rows queued after it stay queued: a restore of that backup needs their objects.
Result<std::vector<Item>> claim(db::Connection& connection, const std::string& owner,
                                std::size_t limit, UnixMicros now, UnixMicros lease_expires_at,
                                std::optional<UnixMicros> hold_queued_after = std::nullopt);

// Extends `owner`'s lease on the rows among `ids` that it still holds to
// `lease_expires_at` (they stay unclaimable until then) and returns their ids, in the
// order of `ids`: a row missing from the answer was taken over by another worker
// after its lease ran out, and is that worker's from then on.
Result<std::vector<ItemId>> renew_lease(db::Connection& connection, const std::string& owner,
                                        std::span<const ItemId> ids, UnixMicros lease_expires_at);

struct Completed {
    std::size_t rows = 0;
    std::uint64_t known_bytes = 0;  // the sizes known of the removed rows' objects
};

// Removes the rows whose objects are confirmed gone, but only those `owner` still
// leases, and leaves a deletion receipt for each (same transaction); says what it
// removed.
Result<Completed> complete(db::Connection& connection, const std::string& owner,
                           std::span<const ItemId> ids, UnixMicros now);

// For each key, whether a live image row references it (same order as `keys`): the one
// live-key rule (invariant 3) that the cleaner, the orphan sweep, enqueue, the import
// and /media/ ask before treating an object as deletable. A variant's key
// (common/variant_key.hpp) is in use while its image's key is.
Result<std::vector<bool>> keys_in_use(db::Connection& connection,
                                      std::span<const std::string> keys);

// Removes rows without a receipt: keys that a live image still references
// (nothing was deleted). Only rows `owner` still leases.
Result<std::size_t> drop(db::Connection& connection, const std::string& owner,
                         std::span<const ItemId> ids);

struct Failure {
    ItemId id;
    std::string error;
    UnixMicros retry_at;
};

struct FailureOutcome {
    std::size_t retried = 0;  // scheduled for another attempt
    std::size_t dead = 0;     // reached max_attempts: moved to `dead`
};

// Counts one attempt against each row `owner` still leases and releases it:
// back to pending at `retry_at`, or to `dead` once attempts reach `max_attempts`.
Result<FailureOutcome> record_failures(db::Connection& connection, const std::string& owner,
                                       std::span<const Failure> failures, int max_attempts);

// Gives rows back without counting an attempt (the whole storage request failed,
// so nothing is known about any key): pending again at `retry_at`.
Result<void> release(db::Connection& connection, const std::string& owner,
                     std::span<const ItemId> ids, UnixMicros retry_at, const std::string& error);

// Moves every dead row back to pending with zero attempts, due now. A dead row
// whose key is pending again already is removed instead. Returns rows requeued.
Result<std::size_t> retry_dead(db::Connection& connection, UnixMicros now);

// Due pending rows without claiming them (for --dry-run).
Result<std::vector<Item>> peek_due(db::Connection& connection, std::size_t limit, UnixMicros now);

struct AttemptCount {
    int attempts;
    std::int64_t count;
    bool operator==(const AttemptCount&) const = default;
};

struct Stats {
    std::int64_t pending = 0;
    std::int64_t dead = 0;
    std::int64_t leased = 0;                  // pending rows a worker holds right now
    std::int64_t due = 0;                     // pending rows a worker may claim right now
    std::optional<UnixMicros> oldest_queued;  // of pending rows
    std::optional<UnixMicros> newest_queued;
    std::vector<AttemptCount> by_attempts;  // of pending rows, ascending attempts
    // Sum of the known sizes of the objects still to delete: pending and restorable.
    std::uint64_t bytes_pending = 0;
    std::int64_t pending_unknown_size = 0;  // pending rows whose size is not known
    std::uint64_t bytes_dead = 0;
    // Deleted images within (or just past) their restore window, counted apart from
    // `pending`; a restorable row past its window counts in `due` until a claim.
    std::int64_t restorable = 0;
    std::uint64_t bytes_restorable = 0;          // part of bytes_pending
    std::optional<UnixMicros> first_window_end;  // of restorable rows
    // Pending rows kept for a retained backup (claim's hold_queued_after), part of
    // `pending` and not of `due`.
    std::int64_t held_by_backup = 0;
};

Result<Stats> stats(db::Connection& connection, UnixMicros now,
                    std::optional<UnixMicros> hold_queued_after = std::nullopt);

// Rows still to be deleted: pending and restorable (not dead).
Result<std::int64_t> pending_count(db::Connection& connection);

struct Waiting {
    std::int64_t rows = 0;                      // pending rows not due yet (retries, leases)
    std::optional<UnixMicros> next_attempt_at;  // when the first of them becomes due
    std::int64_t restorable = 0;                // restorable rows within their window
    std::optional<UnixMicros> first_window_end;
};

// Rows that a worker may not claim before a later time.
Result<Waiting> waiting(db::Connection& connection, UnixMicros now);

}  // namespace gallery::queue
