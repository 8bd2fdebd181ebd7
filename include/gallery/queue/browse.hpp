#pragma once
// Browsing and hand-editing the deletion queue (the admin pages). Pages use keyset
// pagination on (sort column, id), so page 1,000 costs what page 1 does.

#include <optional>
#include <string>
#include <vector>

#include "gallery/queue/queue.hpp"

namespace gallery::queue {

enum class StateFilter { all, pending, leased, restorable, dead };
enum class QueueSort { newest, oldest, most_attempts };

struct BrowseQuery {
    StateFilter state = StateFilter::all;
    int min_attempts = 0;
    std::optional<std::string> search;  // substring of the key or the client id
    QueueSort sort = QueueSort::newest;
    // The last row of the previous page: its sort value and id.
    std::optional<std::pair<std::int64_t, ItemId>> after;
    std::size_t page_size = 50;
};

struct QueueRow {
    ItemId id = 0;
    std::string key;
    std::string client_id;
    UnixMicros queued_at = 0;
    int attempts = 0;
    std::string state;  // pending, leased, restorable, dead
    UnixMicros next_attempt_at = 0;
    std::optional<std::string> last_error;
    std::optional<std::uint64_t> size_bytes;
    std::int64_t sort_value = 0;  // for the next page's `after`
};

struct QueuePage {
    std::vector<QueueRow> rows;
    bool has_more = false;
};

Result<QueuePage> browse(db::Connection& connection, const BrowseQuery& query, UnixMicros now);

// Dead rows among `ids` become pending again with zero attempts (a key already
// pending elsewhere just loses its dead duplicate). Returns how many were requeued.
Result<std::size_t> retry_selected(db::Connection& connection, std::span<const ItemId> ids,
                                   UnixMicros now);

// Removes rows among `ids` that no worker holds a lease on: their objects stay in
// storage. Returns how many were removed.
Result<std::size_t> remove_selected(db::Connection& connection, std::span<const ItemId> ids,
                                    UnixMicros now);

}  // namespace gallery::queue
