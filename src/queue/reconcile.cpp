#include "gallery/queue/reconcile.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include "gallery/db/guard.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::queue {
namespace {

template <class Bind>
std::vector<bool> exists_each(db::Connection& connection, const std::string& sql,
                              std::span<const std::string> keys, Bind bind_extra) {
    SQLite::Statement lookup(connection.sqlite(), sql);
    std::vector<bool> found;
    found.reserve(keys.size());
    for (const std::string& key : keys) {
        lookup.bind(1, key);
        bind_extra(lookup);
        found.push_back(lookup.executeStep());
        lookup.reset();
    }
    return found;
}

}  // namespace

Result<void> record_intent(db::Connection& connection, const std::string& key,
                           const std::string& client_id, UnixMicros now, UnixMicros expires_at) {
    return db::guard("intents: record", [&] {
        SQLite::Statement insert(
            connection.sqlite(),
            "INSERT OR REPLACE INTO upload_intents (storage_key, client_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)");
        insert.bind(1, key);
        insert.bind(2, client_id);
        insert.bind(3, now);
        insert.bind(4, expires_at);
        insert.exec();
    });
}

Result<void> clear_intent(db::Connection& connection, const std::string& key) {
    return db::guard("intents: clear", [&] {
        SQLite::Statement remove(connection.sqlite(),
                                 "DELETE FROM upload_intents WHERE storage_key = ?");
        remove.bind(1, key);
        remove.exec();
    });
}

Result<std::size_t> queue_expired_intents(db::Connection& connection, UnixMicros now) {
    return db::guard("intents: queue expired", [&] {
        db::WriteTransaction tx(connection);
        SQLite::Statement queue_rows(
            connection.sqlite(),
            "INSERT INTO deletion_queue (file_path, client_id, queued_at, next_attempt_at)"
            " SELECT storage_key, client_id, ?1, ?1 FROM upload_intents"
            " WHERE expires_at <= ?1"
            " AND NOT EXISTS (SELECT 1 FROM images WHERE images.storage_key = "
            "upload_intents.storage_key)"
            " ON CONFLICT (file_path) WHERE state = 'pending' DO NOTHING");
        queue_rows.bind(1, now);
        const int queued = queue_rows.exec();
        SQLite::Statement drop(connection.sqlite(),
                               "DELETE FROM upload_intents WHERE expires_at <= ?");
        drop.bind(1, now);
        drop.exec();
        tx.commit();
        return static_cast<std::size_t>(queued);
    });
}

Result<std::vector<bool>> keys_in_flight(db::Connection& connection,
                                         std::span<const std::string> keys, UnixMicros now) {
    return db::guard("intents: check keys", [&] {
        return exists_each(
            connection, "SELECT 1 FROM upload_intents WHERE storage_key = ?1 AND expires_at > ?2",
            keys, [now](SQLite::Statement& s) { s.bind(2, now); });
    });
}

Result<std::vector<bool>> keys_queued(db::Connection& connection,
                                      std::span<const std::string> keys) {
    return db::guard("queue: check keys", [&] {
        // state = 'pending' lets SQLite use the partial unique index on file_path.
        return exists_each(
            connection, "SELECT 1 FROM deletion_queue WHERE file_path = ?1 AND state = 'pending'",
            keys, [](SQLite::Statement&) {});
    });
}

Result<std::size_t> prune_receipts(db::Connection& connection, UnixMicros older_than,
                                   std::size_t limit) {
    return db::guard("receipts: prune", [&] {
        db::WriteTransaction tx(connection);
        SQLite::Statement prune(
            connection.sqlite(),
            "DELETE FROM deletion_receipts WHERE id IN"
            " (SELECT id FROM deletion_receipts WHERE deleted_at < ? ORDER BY deleted_at LIMIT ?)");
        prune.bind(1, older_than);
        prune.bind(2, static_cast<std::int64_t>(limit));
        const int pruned = prune.exec();
        tx.commit();
        return static_cast<std::size_t>(pruned);
    });
}

Result<std::vector<DailyReclaim>> reclaimed_per_day(db::Connection& connection, UnixMicros since) {
    return db::guard("receipts: per day", [&] {
        SQLite::Statement query(
            connection.sqlite(),
            "SELECT date(deleted_at / 1000000, 'unixepoch') AS day, COUNT(*), "
            "COALESCE(SUM(size_bytes), 0)"
            " FROM deletion_receipts WHERE deleted_at >= ? GROUP BY day ORDER BY day DESC");
        query.bind(1, since);
        std::vector<DailyReclaim> days;
        while (query.executeStep()) {
            days.push_back({query.getColumn(0).getString(), query.getColumn(1).getInt64(),
                            static_cast<std::uint64_t>(query.getColumn(2).getInt64())});
        }
        return days;
    });
}

Result<std::vector<Receipt>> receipts_for(db::Connection& connection, const std::string& key) {
    return db::guard("receipts: find", [&] {
        SQLite::Statement query(
            connection.sqlite(),
            "SELECT file_path, client_id, size_bytes, deleted_at FROM deletion_receipts"
            " WHERE file_path = ? ORDER BY deleted_at DESC");
        query.bind(1, key);
        std::vector<Receipt> receipts;
        while (query.executeStep()) {
            Receipt receipt{query.getColumn(0).getString(), query.getColumn(1).getString(),
                            std::nullopt, query.getColumn(3).getInt64()};
            if (!query.getColumn(2).isNull())
                receipt.size_bytes = static_cast<std::uint64_t>(query.getColumn(2).getInt64());
            receipts.push_back(std::move(receipt));
        }
        return receipts;
    });
}

}  // namespace gallery::queue
