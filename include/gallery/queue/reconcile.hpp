#pragma once
// Keeping storage and the database in step beyond the queue itself: upload
// intents (so a crashed upload's object is found), deletion receipts (what was
// removed, when, how big), and the checks the orphan sweep needs.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"
#include "gallery/db/connection.hpp"

namespace gallery::queue {

// Records, in one write transaction, that uploads are about to write `keys`: the
// keys catalog::UploadKeys reserves ahead of its uploads, with no client (""), as it
// cannot know theirs. An expired intent's key is queued with `client_id`.
Result<void> record_intents(db::Connection& connection, std::span<const std::string> keys,
                            const std::string& client_id, UnixMicros now, UnixMicros expires_at);

// Drops the intents of `keys` in one write transaction. Only for reserved keys that
// were never handed to an upload: nothing can be stored under them.
Result<void> drop_intents(db::Connection& connection, std::span<const std::string> keys);

// Drops every intent (own transaction); returns how many. For a catalog restored from
// a backup: its intents were the uploads in flight when the backup was taken, by a
// server that is gone. Left in place they would queue, at expiry, the objects those
// uploads stored after the backup, which the restored catalog cannot tell from
// images; dropped, such objects are orphans that only the sweep's age guard queues.
Result<std::size_t> drop_all_intents(db::Connection& connection);

// Clears the intent; call inside the transaction that writes the image row (or
// that queues the key after a failed upload).
Result<void> clear_intent(db::Connection& connection, const std::string& key);

// Queues the keys of expired intents that no image row references, and drops
// every expired intent (own transaction). Returns how many keys were queued.
Result<std::size_t> queue_expired_intents(db::Connection& connection, UnixMicros now);

// For each key: whether an unexpired intent covers it (an upload in flight).
Result<std::vector<bool>> keys_in_flight(db::Connection& connection,
                                         std::span<const std::string> keys, UnixMicros now);

// For each key: whether it is pending in the queue already. (A dead row does not
// count: an orphan found again is worth queueing again.)
Result<std::vector<bool>> keys_queued(db::Connection& connection,
                                      std::span<const std::string> keys);

// Removes receipts older than `older_than`, at most `limit` of them; returns how many.
Result<std::size_t> prune_receipts(db::Connection& connection, UnixMicros older_than,
                                   std::size_t limit);

struct DailyReclaim {
    std::string day;  // YYYY-MM-DD (UTC)
    std::int64_t objects = 0;
    std::uint64_t bytes = 0;
};

// Objects and bytes removed per day since `since`, newest day first.
Result<std::vector<DailyReclaim>> reclaimed_per_day(db::Connection& connection, UnixMicros since);

struct Receipt {
    std::string file_path;
    std::string client_id;
    std::optional<std::uint64_t> size_bytes;
    UnixMicros deleted_at = 0;
    // When its restore window was ended on purpose (queue::purge_restorable), if it was.
    std::optional<UnixMicros> purged_at;
};

// The receipts of one key, newest first ("when was this file removed?").
Result<std::vector<Receipt>> receipts_for(db::Connection& connection, const std::string& key);

}  // namespace gallery::queue
