#include "gallery/queue/queue.hpp"

#include <unistd.h>
#include "gallery/db/dialect.hpp"
#include "gallery/db/statement.hpp"

#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <unordered_set>

#include "gallery/db/transaction.hpp"
#include "gallery/queue/reconcile.hpp"
#include "queue/image_copy.hpp"
#include "queue/queued_once.hpp"

namespace gallery::queue {
namespace {

constexpr const char* k_item_columns = "id, file_path, client_id, attempts, size_bytes";

Item read_item(db::Statement& row) {
    Item item;
    item.id = row.int64(0);
    item.key = row.text(1);
    item.client_id = row.text(2);
    item.attempts = static_cast<int>(row.int64(3));
    if (!row.is_null(4)) item.size_bytes = static_cast<std::uint64_t>(row.int64(4));
    return item;
}

}  // namespace

constexpr const char* k_insert_columns =
    "INSERT INTO deletion_queue (file_path, client_id, queued_at, next_attempt_at, size_bytes) ";

Result<bool> enqueue(db::Connection& connection, const EnqueueRequest& request, UnixMicros now) {
    return db::write(connection, "queue: enqueue", [&] {
        db::Statement insert(connection, std::string(k_insert_columns) +
                                             "VALUES (?1, ?2, ?3, ?3, ?4)" + k_queued_once);
        insert.bind(1, request.key);
        insert.bind(2, request.client_id);
        insert.bind(3, now);
        insert.bind(4, request.size_bytes);
        return insert.execute() == 1;
    });
}

Result<std::size_t> enqueue_all(db::Connection& connection,
                                std::span<const EnqueueRequest> requests, UnixMicros now) {
    return db::write(connection, "queue: enqueue", [&] {
        // 100 rows per statement: one statement per key would run PostgreSQL's counter
        // trigger per key (see carry_over).
        return static_cast<std::size_t>(
            db::insert_rows(connection, k_insert_columns, 5, k_queued_once, requests.size(),
                            [&](db::Statement& insert, int first, std::size_t n) {
                                const EnqueueRequest& request = requests[n];
                                insert.bind(first, request.key);
                                insert.bind(first + 1, request.client_id);
                                insert.bind(first + 2, now);
                                insert.bind(first + 3, now);
                                insert.bind(first + 4, request.size_bytes);
                            }));
    });
}

Result<std::vector<CarryOutcome>> carry_over(db::Connection& connection,
                                             std::span<const CarriedOver> rows, UnixMicros now) {
    return db::write(connection, "queue: carry over", [&]() -> Result<std::vector<CarryOutcome>> {
        std::vector<std::string> keys;
        keys.reserve(rows.size());
        for (const CarriedOver& row : rows) keys.push_back(row.key);
        auto pending = keys_queued(connection, keys);
        if (!pending) return std::unexpected(pending.error());
        db::Statement deleted(connection,
                              "SELECT 1 FROM deletion_receipts WHERE file_path = ?1"
                              " AND deleted_at >= ?2");
        std::vector<CarryOutcome> outcomes;
        outcomes.reserve(rows.size());
        std::vector<std::size_t> queued_rows;
        std::unordered_set<std::string_view> queued_keys;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const CarriedOver& row = rows[i];
            deleted.bind(1, row.key);
            deleted.bind(2, row.queued_at);
            const bool gone = deleted.step();
            deleted.reset();
            if (gone) {
                outcomes.push_back(CarryOutcome::already_deleted);
                continue;
            }
            if ((*pending)[i] || queued_keys.contains(row.key)) {
                outcomes.push_back(CarryOutcome::already_pending);
                continue;
            }
            outcomes.push_back(CarryOutcome::queued);
            queued_rows.push_back(i);
            queued_keys.insert(row.key);
        }
        // Many rows per INSERT, not one: on PostgreSQL each statement's counter trigger
        // updates the same queue_counters row, and a transaction that updates one row
        // 100,000 times walks a longer chain of its versions each time (the import of
        // 100,000 pending rows spent minutes there). The statement keeps the queue's rule
        // (k_queued_once) although the checks above already applied it.
        db::insert_rows(connection,
                        "INSERT INTO deletion_queue (file_path, client_id, queued_at,"
                        " next_attempt_at, attempts, last_error)",
                        6, k_queued_once, queued_rows.size(),
                        [&](db::Statement& insert, int first, std::size_t n) {
                            const CarriedOver& row = rows[queued_rows[n]];
                            insert.bind(first, row.key);
                            insert.bind(first + 1, row.client_id);
                            insert.bind(first + 2, row.queued_at);
                            insert.bind(first + 3, now);
                            insert.bind(first + 4, row.attempts);
                            insert.bind(first + 5, row.last_error);
                        });
        return outcomes;
    });
}

std::string make_lease_owner() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown-host");
    std::random_device entropy;
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%08x", entropy());
    return std::string(host) + ":" + std::to_string(::getpid()) + ":" + suffix;
}

Result<std::vector<Item>> claim(db::Connection& connection, const std::string& owner,
                                std::size_t limit, UnixMicros now, UnixMicros lease_expires_at,
                                std::optional<UnixMicros> hold_queued_after) {
    const UnixMicros queued_until =
        hold_queued_after.value_or(std::numeric_limits<UnixMicros>::max());
    // Looked at first without the write lock: a cleaner with nothing due (one polling
    // often, or one per serve host) must not queue the server's writers behind it.
    // The (state, next_attempt_at) index answers both: a due pending row, or a
    // restorable row whose window has ended.
    auto due = db::read("queue: claim batch", [&] {
        db::Statement due_row(connection,
                              "SELECT 1 FROM deletion_queue WHERE state = 'pending'"
                              " AND next_attempt_at <= ?1 AND queued_at <= ?2 UNION ALL SELECT 1"
                              " FROM deletion_queue WHERE state = 'restorable'"
                              " AND next_attempt_at <= ?1 LIMIT 1");
        due_row.bind(1, now);
        due_row.bind(2, queued_until);
        return due_row.step();
    });
    if (!due) return std::unexpected(due.error());
    if (!*due) return std::vector<Item>{};
    return db::write(connection, "queue: claim batch", [&] {
        // Rows whose restore window has ended become pending, at most a batch of them
        // per claim, and lose the copy of their image: from here on a restore refuses
        // them (invariant 9). A restore that took a row first has removed it; on
        // PostgreSQL, one holding it is skipped and wins.
        db::Statement window_ended(connection,
                                   std::string("UPDATE deletion_queue SET state = 'pending', ") +
                                       k_clear_image_copy +
                                       " WHERE id IN (SELECT id FROM deletion_queue"
                                       "   WHERE state = 'restorable' AND next_attempt_at <= ?1"
                                       "   ORDER BY next_attempt_at, id LIMIT ?2" +
                                       db::skip_locked(connection) + ")");
        window_ended.bind(1, now);
        window_ended.bind(2, static_cast<std::int64_t>(limit));
        window_ended.execute();
        // next_attempt_at moves to the lease's expiry: if this worker dies, the rows
        // become due again exactly when the lease runs out.
        db::Statement update(
            connection,
            std::string("UPDATE deletion_queue"
                        " SET lease_owner = ?1, lease_expires_at = ?2, next_attempt_at = ?2"
                        " WHERE id IN (SELECT id FROM deletion_queue"
                        "   WHERE state = 'pending' AND next_attempt_at <= ?3"
                        "   AND queued_at <= ?5 ORDER BY next_attempt_at, id LIMIT ?4" +
                        db::skip_locked(connection) +
                        ")"
                        " RETURNING ") +
                k_item_columns);
        update.bind(1, owner);
        update.bind(2, lease_expires_at);
        update.bind(3, now);
        update.bind(4, static_cast<std::int64_t>(limit));
        update.bind(5, queued_until);
        std::vector<Item> items;
        while (update.step()) items.push_back(read_item(update));
        update.reset();
        return items;
    });
}

namespace {

Result<Completed> remove_leased(db::Connection& connection, const std::string& owner,
                                std::span<const ItemId> ids,
                                std::optional<UnixMicros> receipt_time) {
    // Nothing to remove takes no write lock (a batch usually drops no live key).
    if (ids.empty()) return Completed{};
    return db::write(connection, "queue: complete", [&] {
        // The delete decides, the receipts follow what it removed: a row whose lease
        // another worker has taken since is neither removed nor receipted. One DELETE for
        // the batch and its receipts 100 rows a statement: a statement per row cost more
        // than the unlink it records.
        db::Statement remove(connection,
                             "DELETE FROM deletion_queue WHERE lease_owner = ?1 AND id IN " +
                                 db::json_integer_array(connection, 2) +
                                 " RETURNING file_path, client_id, size_bytes, purged_at");
        remove.bind(1, owner);
        remove.bind(2, nlohmann::json(std::vector<ItemId>(ids.begin(), ids.end())).dump());
        struct Gone {
            std::string file_path;
            std::string client_id;
            std::optional<std::int64_t> size_bytes;
            std::optional<std::int64_t> purged_at;
        };
        std::vector<Gone> gone;
        Completed removed;
        while (remove.step()) {
            Gone row{remove.text(0), remove.text(1), std::nullopt, std::nullopt};
            if (!remove.is_null(2)) row.size_bytes = remove.int64(2);
            if (!remove.is_null(3)) row.purged_at = remove.int64(3);
            removed.known_bytes += static_cast<std::uint64_t>(row.size_bytes.value_or(0));
            gone.push_back(std::move(row));
        }
        remove.reset();
        removed.rows = gone.size();
        if (!receipt_time || gone.empty()) return removed;
        db::insert_rows(connection,
                        "INSERT INTO deletion_receipts (file_path, client_id, size_bytes,"
                        " deleted_at, purged_at)",
                        5, "", gone.size(),
                        [&](db::Statement& statement, int first, std::size_t row) {
                            statement.bind(first, gone[row].file_path);
                            statement.bind(first + 1, gone[row].client_id);
                            statement.bind(first + 2, gone[row].size_bytes);
                            statement.bind(first + 3, *receipt_time);
                            statement.bind(first + 4, gone[row].purged_at);
                        });
        return removed;
    });
}

}  // namespace

Result<Completed> complete(db::Connection& connection, const std::string& owner,
                           std::span<const ItemId> ids, UnixMicros now) {
    return remove_leased(connection, owner, ids, now);
}

Result<std::size_t> drop(db::Connection& connection, const std::string& owner,
                         std::span<const ItemId> ids) {
    auto removed = remove_leased(connection, owner, ids, std::nullopt);
    if (!removed) return std::unexpected(removed.error());
    return removed->rows;
}

Result<std::vector<ItemId>> renew_lease(db::Connection& connection, const std::string& owner,
                                        std::span<const ItemId> ids, UnixMicros lease_expires_at) {
    if (ids.empty()) return std::vector<ItemId>{};
    return db::write(connection, "queue: renew lease", [&] {
        // As claim: next_attempt_at follows the lease, so a worker that dies now leaves
        // the rows due exactly when the renewed lease runs out.
        db::Statement renew(connection,
                            "UPDATE deletion_queue SET lease_expires_at = ?1, next_attempt_at = ?1"
                            " WHERE lease_owner = ?2 AND id IN " +
                                db::json_integer_array(connection, 3) + " RETURNING id");
        renew.bind(1, lease_expires_at);
        renew.bind(2, owner);
        renew.bind(3, nlohmann::json(std::vector<ItemId>(ids.begin(), ids.end())).dump());
        std::unordered_set<ItemId> held;
        while (renew.step()) held.insert(renew.int64(0));
        renew.reset();
        std::vector<ItemId> still_held;
        for (const ItemId id : ids)
            if (held.contains(id)) still_held.push_back(id);
        return still_held;
    });
}

Result<FailureOutcome> record_failures(db::Connection& connection, const std::string& owner,
                                       std::span<const Failure> failures, int max_attempts) {
    if (failures.empty()) return FailureOutcome{};
    return db::write(connection, "queue: record failures", [&] {
        // One statement per distinct (error, retry time), not per row: a whole batch that
        // failed alike is one UPDATE, so PostgreSQL's counter trigger runs once for it.
        std::map<std::pair<std::string_view, UnixMicros>, std::vector<ItemId>> alike;
        for (const Failure& failure : failures)
            alike[{failure.error, failure.retry_at}].push_back(failure.id);
        db::Statement update(connection,
                             "UPDATE deletion_queue SET"
                             " attempts = attempts + 1, last_error = ?1, next_attempt_at = ?2,"
                             " state = CASE WHEN attempts + 1 >= ?3 THEN 'dead' ELSE 'pending' END,"
                             " lease_owner = NULL, lease_expires_at = NULL"
                             " WHERE lease_owner = ?4 AND id IN " +
                                 db::json_integer_array(connection, 5) + " RETURNING state");
        FailureOutcome outcome;
        for (const auto& [failed_alike, ids] : alike) {
            update.bind(1, failed_alike.first);
            update.bind(2, failed_alike.second);
            update.bind(3, max_attempts);
            update.bind(4, owner);
            update.bind(5, nlohmann::json(ids).dump());
            while (update.step()) {
                if (update.text(0) == "dead")
                    ++outcome.dead;
                else
                    ++outcome.retried;
            }
            update.reset();
        }
        return outcome;
    });
}

Result<void> release(db::Connection& connection, const std::string& owner,
                     std::span<const ItemId> ids, UnixMicros retry_at, const std::string& error) {
    if (ids.empty()) return {};
    return db::write(connection, "queue: release", [&] {
        db::Statement update(connection,
                             "UPDATE deletion_queue SET last_error = ?1, next_attempt_at = ?2,"
                             " lease_owner = NULL, lease_expires_at = NULL"
                             " WHERE lease_owner = ?3 AND id IN " +
                                 db::json_integer_array(connection, 4));
        update.bind(1, error);
        update.bind(2, retry_at);
        update.bind(3, owner);
        update.bind(4, nlohmann::json(std::vector<ItemId>(ids.begin(), ids.end())).dump());
        update.execute();
    });
}

Result<std::size_t> retry_dead(db::Connection& connection, UnixMicros now) {
    return db::write(connection, "queue: retry dead", [&] {
        db::Statement drop_duplicates(
            connection, std::string("DELETE FROM deletion_queue WHERE state = 'dead' AND ") +
                            k_key_queued_elsewhere);
        drop_duplicates.execute();
        // Several dead rows may share a key; requeue the newest of each, drop the rest.
        db::Statement drop_older(
            connection,
            "DELETE FROM deletion_queue WHERE state = 'dead' AND id NOT IN"
            " (SELECT MAX(id) FROM deletion_queue WHERE state = 'dead' GROUP BY file_path)");
        drop_older.execute();
        db::Statement requeue(
            connection,
            "UPDATE deletion_queue SET state = 'pending', attempts = 0, next_attempt_at = ?1,"
            " lease_owner = NULL, lease_expires_at = NULL WHERE state = 'dead'");
        requeue.bind(1, now);
        const std::int64_t requeued = requeue.execute();
        return static_cast<std::size_t>(requeued);
    });
}

Result<std::vector<Item>> peek_due(db::Connection& connection, std::size_t limit, UnixMicros now) {
    return db::read("queue: list due rows", [&] {
        db::Statement query(
            connection, std::string("SELECT ") + k_item_columns +
                            " FROM deletion_queue WHERE state = 'pending' AND next_attempt_at <= ?"
                            " ORDER BY next_attempt_at, id LIMIT ?");
        query.bind(1, now);
        query.bind(2, static_cast<std::int64_t>(limit));
        std::vector<Item> items;
        while (query.step()) items.push_back(read_item(query));
        return items;
    });
}

Result<Stats> stats(db::Connection& connection, UnixMicros now,
                    std::optional<UnixMicros> hold_queued_after) {
    return db::read("queue: stats", [&] {
        // Counts and bytes come from queue_counters (kept by the triggers of migration
        // 0006), the ages from one index step each, and due from the rows not due yet:
        // nothing here reads the whole queue.
        Stats result;
        db::Statement counters(connection,
                               "SELECT state, attempts, SUM(rows), SUM(known_bytes),"
                               " SUM(unknown_size) FROM queue_counters GROUP BY state, attempts"
                               " HAVING SUM(rows) <> 0 ORDER BY state, attempts");
        while (counters.step()) {
            const std::int64_t rows = counters.int64(2);
            const auto bytes = static_cast<std::uint64_t>(counters.int64(3));
            const std::string state = counters.text(0);
            if (state == "pending") {
                result.pending += rows;
                result.bytes_pending += bytes;
                result.pending_unknown_size += counters.int64(4);
                result.by_attempts.push_back({static_cast<int>(counters.int64(1)), rows});
            } else if (state == "restorable") {
                result.restorable += rows;
                result.bytes_restorable += bytes;
                result.bytes_pending += bytes;  // their objects still take storage
            } else {
                result.dead += rows;
                result.bytes_dead += bytes;
            }
        }
        const auto queued_at = [&](const char* order) -> std::optional<UnixMicros> {
            db::Statement edge(connection,
                               std::string("SELECT queued_at FROM deletion_queue"
                                           " WHERE state = 'pending' ORDER BY queued_at ") +
                                   order + " LIMIT 1");
            if (!edge.step()) return std::nullopt;
            return edge.int64(0);
        };
        result.oldest_queued = queued_at("ASC");
        result.newest_queued = queued_at("DESC");
        // The (state, next_attempt_at) index's range past now: leases and retries, a
        // few batches' worth, whatever the size of the queue.
        db::Statement not_due(connection,
                              "SELECT COUNT(*), COALESCE(SUM(CASE WHEN lease_expires_at > ?1"
                              " THEN 1 ELSE 0 END), 0) FROM deletion_queue"
                              " WHERE state = 'pending' AND next_attempt_at > ?1");
        not_due.bind(1, now);
        not_due.step();
        result.due = result.pending - not_due.int64(0);
        result.leased = not_due.int64(1);
        if (hold_queued_after) {
            // The (state, queued_at) index's range past the oldest retained backup.
            db::Statement held(connection,
                               "SELECT COUNT(*), COALESCE(SUM(CASE WHEN next_attempt_at <= ?1"
                               " THEN 1 ELSE 0 END), 0) FROM deletion_queue"
                               " WHERE state = 'pending' AND queued_at > ?2");
            held.bind(1, now);
            held.bind(2, *hold_queued_after);
            held.step();
            result.held_by_backup = held.int64(0);
            result.due -= held.int64(1);
        }
        if (result.restorable > 0) {
            // Restorable rows whose window has ended are due: the next claim takes them.
            // A cleaner that runs keeps them to a batch or so.
            db::Statement ended(connection,
                                "SELECT COUNT(*) FROM deletion_queue"
                                " WHERE state = 'restorable' AND next_attempt_at <= ?1");
            ended.bind(1, now);
            ended.step();
            result.due += ended.int64(0);
            db::Statement first_end(connection,
                                    "SELECT next_attempt_at FROM deletion_queue"
                                    " WHERE state = 'restorable' ORDER BY next_attempt_at LIMIT 1");
            if (first_end.step()) result.first_window_end = first_end.int64(0);
        }
        return result;
    });
}

Result<std::int64_t> pending_count(db::Connection& connection) {
    return db::read("queue: count pending", [&] {
        db::Statement count(connection,
                            "SELECT COALESCE(SUM(rows), 0) FROM queue_counters"
                            " WHERE state <> 'dead'");
        count.step();
        return count.int64(0);
    });
}

Result<Waiting> waiting(db::Connection& connection, UnixMicros now) {
    return db::read("queue: count waiting rows", [&] {
        // The (state, next_attempt_at) index: a range of it, never the whole queue.
        db::Statement count(connection,
                            "SELECT COUNT(*), MIN(next_attempt_at) FROM deletion_queue"
                            " WHERE state = 'pending' AND next_attempt_at > ?1");
        count.bind(1, now);
        count.step();
        Waiting result;
        result.rows = count.int64(0);
        if (!count.is_null(1)) result.next_attempt_at = count.int64(1);
        // Within their window: the counters' restorable rows less those past it (the
        // few the next claim takes), so a large window is not counted row by row.
        db::Statement in_window(
            connection,
            "SELECT (SELECT COALESCE(SUM(rows), 0) FROM queue_counters"
            " WHERE state = 'restorable') - (SELECT COUNT(*) FROM deletion_queue"
            " WHERE state = 'restorable' AND next_attempt_at <= ?1)");
        in_window.bind(1, now);
        in_window.step();
        result.restorable = in_window.int64(0);
        db::Statement first_end(connection,
                                "SELECT next_attempt_at FROM deletion_queue"
                                " WHERE state = 'restorable' AND next_attempt_at > ?1"
                                " ORDER BY next_attempt_at LIMIT 1");
        first_end.bind(1, now);
        if (first_end.step()) result.first_window_end = first_end.int64(0);
        return result;
    });
}

}  // namespace gallery::queue
