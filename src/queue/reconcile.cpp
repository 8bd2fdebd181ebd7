#include "gallery/queue/reconcile.hpp"

#include "gallery/db/dialect.hpp"
#include "gallery/db/statement.hpp"

#include "gallery/db/transaction.hpp"
#include "queue/live_key.hpp"
#include "queue/queued_once.hpp"

namespace gallery::queue {
namespace {

template <class Bind>
std::vector<bool> exists_each(db::Connection& connection, const std::string& sql,
                              std::span<const std::string> keys, Bind bind_extra) {
    db::Statement lookup(connection, sql);
    std::vector<bool> found;
    found.reserve(keys.size());
    for (const std::string& key : keys) {
        lookup.bind(1, key);
        bind_extra(lookup);
        found.push_back(lookup.step());
        lookup.reset();
    }
    return found;
}

}  // namespace

Result<void> record_intents(db::Connection& connection, std::span<const std::string> keys,
                            const std::string& client_id, UnixMicros now, UnixMicros expires_at) {
    // A write transaction, not autocommit statements: it waits for this process's
    // writer turn (db/sqlite/writer_turn.hpp) instead of SQLite's busy handler.
    return db::write(connection, "intents: record", [&] {
        db::Statement insert(
            connection,
            "INSERT INTO upload_intents (storage_key, client_id, created_at, expires_at)"
            " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (storage_key) DO UPDATE SET"
            " client_id = excluded.client_id, created_at = excluded.created_at,"
            " expires_at = excluded.expires_at");
        for (const std::string& key : keys) {
            insert.bind(1, key);
            insert.bind(2, client_id);
            insert.bind(3, now);
            insert.bind(4, expires_at);
            insert.execute();
            insert.reset();
        }
    });
}

Result<void> drop_intents(db::Connection& connection, std::span<const std::string> keys) {
    return db::write(connection, "intents: release reserved", [&] {
        db::Statement remove(connection, "DELETE FROM upload_intents WHERE storage_key = ?");
        for (const std::string& key : keys) {
            remove.bind(1, key);
            remove.execute();
            remove.reset();
        }
    });
}

Result<std::size_t> drop_all_intents(db::Connection& connection) {
    return db::write(connection, "intents: drop all", [&] {
        db::Statement remove(connection, "DELETE FROM upload_intents");
        return static_cast<std::size_t>(remove.execute());
    });
}

Result<void> clear_intent(db::Connection& connection, const std::string& key) {
    return db::read("intents: clear", [&] {
        db::Statement remove(connection, "DELETE FROM upload_intents WHERE storage_key = ?");
        remove.bind(1, key);
        remove.execute();
    });
}

Result<std::size_t> queue_expired_intents(db::Connection& connection, UnixMicros now) {
    // Read first, as in queue::claim: the common case (nothing expired) takes no write lock.
    auto expired = db::read("intents: queue expired", [&] {
        return db::has_row(connection,
                           "SELECT 1 FROM upload_intents WHERE expires_at <= ?1 LIMIT 1", now);
    });
    if (!expired) return std::unexpected(expired.error());
    if (!*expired) return std::size_t{0};
    return db::write(connection, "intents: queue expired", [&] {
        // PostgreSQL: an upload finishing now holds its intent's row; wait for it, so its
        // image row is seen below instead of its object being queued.
        db::Statement lock(connection,
                           "SELECT storage_key FROM upload_intents WHERE expires_at <= ?1" +
                               db::for_update(connection));
        lock.bind(1, now);
        while (lock.step()) {
        }
        lock.reset();
        db::Statement queue_rows(
            connection,
            "INSERT INTO deletion_queue (file_path, client_id, queued_at, next_attempt_at)"
            " SELECT storage_key, client_id, ?1, ?1 FROM upload_intents"
            " WHERE expires_at <= ?1"
            " AND NOT " +
                live_image_holds("upload_intents.storage_key") + k_queued_once);
        queue_rows.bind(1, now);
        const std::int64_t queued = queue_rows.execute();
        db::Statement drop(connection, "DELETE FROM upload_intents WHERE expires_at <= ?");
        drop.bind(1, now);
        drop.execute();
        return static_cast<std::size_t>(queued);
    });
}

Result<std::vector<bool>> keys_in_flight(db::Connection& connection,
                                         std::span<const std::string> keys, UnixMicros now) {
    return db::read("intents: check keys", [&] {
        return exists_each(
            connection, "SELECT 1 FROM upload_intents WHERE storage_key = ?1 AND expires_at > ?2",
            keys, [now](db::Statement& s) { s.bind(2, now); });
    });
}

Result<std::vector<bool>> keys_queued(db::Connection& connection,
                                      std::span<const std::string> keys) {
    return db::read("queue: check keys", [&] {
        // Pending or restorable: a restorable object is no orphan. The condition repeats
        // the partial unique index's, so SQLite uses that index.
        return exists_each(connection,
                           "SELECT 1 FROM deletion_queue WHERE file_path = ?1 AND state <> 'dead'",
                           keys, [](db::Statement&) {});
    });
}

Result<std::size_t> prune_receipts(db::Connection& connection, UnixMicros older_than,
                                   std::size_t limit) {
    auto any_old = db::read("receipts: prune", [&] {
        return db::has_row(connection,
                           "SELECT 1 FROM deletion_receipts WHERE deleted_at < ?1 LIMIT 1",
                           older_than);
    });
    if (!any_old) return std::unexpected(any_old.error());
    if (!*any_old) return std::size_t{0};
    return db::write(connection, "receipts: prune", [&] {
        db::Statement prune(
            connection,
            "DELETE FROM deletion_receipts WHERE id IN"
            " (SELECT id FROM deletion_receipts WHERE deleted_at < ? ORDER BY deleted_at LIMIT ?)");
        prune.bind(1, older_than);
        prune.bind(2, static_cast<std::int64_t>(limit));
        const std::int64_t pruned = prune.execute();
        return static_cast<std::size_t>(pruned);
    });
}

Result<std::vector<DailyReclaim>> reclaimed_per_day(db::Connection& connection, UnixMicros since) {
    return db::read("receipts: per day", [&] {
        db::Statement query(
            connection,
            "SELECT " + db::utc_day(connection, "deleted_at") +
                " AS day, COUNT(*), COALESCE(SUM(size_bytes), 0)"
                " FROM deletion_receipts WHERE deleted_at >= ? GROUP BY day ORDER BY day DESC");
        query.bind(1, since);
        std::vector<DailyReclaim> days;
        while (query.step()) {
            days.push_back(
                {query.text(0), query.int64(1), static_cast<std::uint64_t>(query.int64(2))});
        }
        return days;
    });
}

Result<std::vector<Receipt>> receipts_for(db::Connection& connection, const std::string& key) {
    return db::read("receipts: find", [&] {
        db::Statement query(
            connection,
            "SELECT file_path, client_id, size_bytes, deleted_at, purged_at FROM deletion_receipts"
            " WHERE file_path = ? ORDER BY deleted_at DESC");
        query.bind(1, key);
        std::vector<Receipt> receipts;
        while (query.step()) {
            Receipt receipt{query.text(0), query.text(1), std::nullopt, query.int64(3),
                            std::nullopt};
            if (!query.is_null(2)) receipt.size_bytes = static_cast<std::uint64_t>(query.int64(2));
            if (!query.is_null(4)) receipt.purged_at = query.int64(4);
            receipts.push_back(std::move(receipt));
        }
        return receipts;
    });
}

}  // namespace gallery::queue
