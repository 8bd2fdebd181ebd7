#include "gallery/queue/queue.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <unistd.h>

#include <random>

#include "gallery/db/guard.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::queue {
namespace {

constexpr const char* k_item_columns = "id, file_path, client_id, attempts, size_bytes";

Item read_item(SQLite::Statement& row) {
    Item item;
    item.id = row.getColumn(0).getInt64();
    item.key = row.getColumn(1).getString();
    item.client_id = row.getColumn(2).getString();
    item.attempts = row.getColumn(3).getInt();
    if (!row.getColumn(4).isNull())
        item.size_bytes = static_cast<std::uint64_t>(row.getColumn(4).getInt64());
    return item;
}

}  // namespace

Result<bool> enqueue(db::Connection& connection, const EnqueueRequest& request, UnixMicros now) {
    return db::guard("queue: enqueue", [&] {
        SQLite::Statement insert(connection.sqlite(),
                                 "INSERT INTO deletion_queue (file_path, client_id, queued_at, "
                                 "next_attempt_at, size_bytes)"
                                 " VALUES (?1, ?2, ?3, ?3, ?4)"
                                 " ON CONFLICT (file_path) WHERE state = 'pending' DO NOTHING");
        insert.bind(1, request.key);
        insert.bind(2, request.client_id);
        insert.bind(3, now);
        if (request.size_bytes) insert.bind(4, static_cast<std::int64_t>(*request.size_bytes));
        return insert.exec() == 1;
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
                                std::size_t limit, UnixMicros now, UnixMicros lease_expires_at) {
    return db::guard("queue: claim batch", [&] {
        db::WriteTransaction tx(connection);
        // next_attempt_at moves to the lease's expiry: if this worker dies, the rows
        // become due again exactly when the lease runs out.
        SQLite::Statement update(
            connection.sqlite(),
            std::string("UPDATE deletion_queue"
                        " SET lease_owner = ?1, lease_expires_at = ?2, next_attempt_at = ?2"
                        " WHERE id IN (SELECT id FROM deletion_queue"
                        "   WHERE state = 'pending' AND next_attempt_at <= ?3"
                        "   ORDER BY next_attempt_at, id LIMIT ?4)"
                        " RETURNING ") +
                k_item_columns);
        update.bind(1, owner);
        update.bind(2, lease_expires_at);
        update.bind(3, now);
        update.bind(4, static_cast<std::int64_t>(limit));
        std::vector<Item> items;
        while (update.executeStep()) items.push_back(read_item(update));
        update.reset();
        tx.commit();
        return items;
    });
}

namespace {

Result<std::size_t> remove_leased(db::Connection& connection, const std::string& owner,
                                  std::span<const ItemId> ids,
                                  std::optional<UnixMicros> receipt_time) {
    return db::guard("queue: complete", [&] {
        db::WriteTransaction tx(connection);
        SQLite::Statement receipt(
            connection.sqlite(),
            "INSERT INTO deletion_receipts (file_path, client_id, size_bytes, deleted_at)"
            " SELECT file_path, client_id, size_bytes, ?3 FROM deletion_queue"
            " WHERE id = ?1 AND lease_owner = ?2");
        SQLite::Statement remove(connection.sqlite(),
                                 "DELETE FROM deletion_queue WHERE id = ? AND lease_owner = ?");
        std::size_t removed = 0;
        for (const ItemId id : ids) {
            if (receipt_time) {
                receipt.bind(1, id);
                receipt.bind(2, owner);
                receipt.bind(3, *receipt_time);
                receipt.exec();
                receipt.reset();
            }
            remove.bind(1, id);
            remove.bind(2, owner);
            removed += static_cast<std::size_t>(remove.exec());
            remove.reset();
        }
        tx.commit();
        return removed;
    });
}

}  // namespace

Result<std::size_t> complete(db::Connection& connection, const std::string& owner,
                             std::span<const ItemId> ids, UnixMicros now) {
    return remove_leased(connection, owner, ids, now);
}

Result<std::size_t> drop(db::Connection& connection, const std::string& owner,
                         std::span<const ItemId> ids) {
    return remove_leased(connection, owner, ids, std::nullopt);
}

Result<FailureOutcome> record_failures(db::Connection& connection, const std::string& owner,
                                       std::span<const Failure> failures, int max_attempts) {
    return db::guard("queue: record failures", [&] {
        db::WriteTransaction tx(connection);
        SQLite::Statement update(
            connection.sqlite(),
            "UPDATE deletion_queue SET"
            " attempts = attempts + 1, last_error = ?1, next_attempt_at = ?2,"
            " state = CASE WHEN attempts + 1 >= ?3 THEN 'dead' ELSE 'pending' END,"
            " lease_owner = NULL, lease_expires_at = NULL"
            " WHERE id = ?4 AND lease_owner = ?5"
            " RETURNING state");
        FailureOutcome outcome;
        for (const Failure& failure : failures) {
            update.bind(1, failure.error);
            update.bind(2, failure.retry_at);
            update.bind(3, max_attempts);
            update.bind(4, failure.id);
            update.bind(5, owner);
            if (update.executeStep()) {
                if (update.getColumn(0).getString() == "dead")
                    ++outcome.dead;
                else
                    ++outcome.retried;
            }
            update.reset();
        }
        tx.commit();
        return outcome;
    });
}

Result<void> release(db::Connection& connection, const std::string& owner,
                     std::span<const ItemId> ids, UnixMicros retry_at, const std::string& error) {
    return db::guard("queue: release", [&] {
        db::WriteTransaction tx(connection);
        SQLite::Statement update(connection.sqlite(),
                                 "UPDATE deletion_queue SET last_error = ?1, next_attempt_at = ?2,"
                                 " lease_owner = NULL, lease_expires_at = NULL"
                                 " WHERE id = ?3 AND lease_owner = ?4");
        for (const ItemId id : ids) {
            update.bind(1, error);
            update.bind(2, retry_at);
            update.bind(3, id);
            update.bind(4, owner);
            update.exec();
            update.reset();
        }
        tx.commit();
    });
}

Result<std::size_t> retry_dead(db::Connection& connection, UnixMicros now) {
    return db::guard("queue: retry dead", [&] {
        db::WriteTransaction tx(connection);
        SQLite::Database& db = connection.sqlite();
        SQLite::Statement drop_duplicates(
            db,
            "DELETE FROM deletion_queue WHERE state = 'dead' AND file_path IN"
            " (SELECT file_path FROM deletion_queue WHERE state = 'pending')");
        drop_duplicates.exec();
        // Several dead rows may share a key; requeue the newest of each, drop the rest.
        SQLite::Statement drop_older(
            db,
            "DELETE FROM deletion_queue WHERE state = 'dead' AND id NOT IN"
            " (SELECT MAX(id) FROM deletion_queue WHERE state = 'dead' GROUP BY file_path)");
        drop_older.exec();
        SQLite::Statement requeue(
            db,
            "UPDATE deletion_queue SET state = 'pending', attempts = 0, next_attempt_at = ?1,"
            " lease_owner = NULL, lease_expires_at = NULL WHERE state = 'dead'");
        requeue.bind(1, now);
        const int requeued = requeue.exec();
        tx.commit();
        return static_cast<std::size_t>(requeued);
    });
}

Result<std::vector<Item>> peek_due(db::Connection& connection, std::size_t limit, UnixMicros now) {
    return db::guard("queue: list due rows", [&] {
        SQLite::Statement query(
            connection.sqlite(),
            std::string("SELECT ") + k_item_columns +
                " FROM deletion_queue WHERE state = 'pending' AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at, id LIMIT ?");
        query.bind(1, now);
        query.bind(2, static_cast<std::int64_t>(limit));
        std::vector<Item> items;
        while (query.executeStep()) items.push_back(read_item(query));
        return items;
    });
}

Result<Stats> stats(db::Connection& connection, UnixMicros now) {
    return db::guard("queue: stats", [&] {
        SQLite::Database& db = connection.sqlite();
        Stats result;
        SQLite::Statement by_state(
            db,
            "SELECT state, COUNT(*), COALESCE(SUM(size_bytes), 0), SUM(size_bytes IS NULL),"
            " MIN(queued_at), MAX(queued_at) FROM deletion_queue GROUP BY state");
        while (by_state.executeStep()) {
            const std::string state = by_state.getColumn(0).getString();
            const std::int64_t count = by_state.getColumn(1).getInt64();
            const auto bytes = static_cast<std::uint64_t>(by_state.getColumn(2).getInt64());
            if (state == "pending") {
                result.pending = count;
                result.bytes_pending = bytes;
                result.pending_unknown_size = by_state.getColumn(3).getInt64();
                result.oldest_queued = by_state.getColumn(4).getInt64();
                result.newest_queued = by_state.getColumn(5).getInt64();
            } else {
                result.dead = count;
                result.bytes_dead = bytes;
            }
        }
        SQLite::Statement due(
            db,
            "SELECT COUNT(*) FROM deletion_queue WHERE state = 'pending' AND next_attempt_at <= ?");
        due.bind(1, now);
        due.executeStep();
        result.due = due.getColumn(0).getInt64();
        SQLite::Statement leased(
            db,
            "SELECT COUNT(*) FROM deletion_queue"
            " WHERE state = 'pending' AND next_attempt_at > ?1 AND lease_expires_at > ?1");
        leased.bind(1, now);
        leased.executeStep();
        result.leased = leased.getColumn(0).getInt64();
        SQLite::Statement attempts(
            db,
            "SELECT attempts, COUNT(*) FROM deletion_queue WHERE state = 'pending'"
            " GROUP BY attempts ORDER BY attempts");
        while (attempts.executeStep()) {
            result.by_attempts.push_back(
                {attempts.getColumn(0).getInt(), attempts.getColumn(1).getInt64()});
        }
        return result;
    });
}

Result<std::int64_t> pending_count(db::Connection& connection) {
    return db::guard("queue: count pending", [&] {
        SQLite::Statement count(connection.sqlite(),
                                "SELECT COUNT(*) FROM deletion_queue WHERE state = 'pending'");
        count.executeStep();
        return count.getColumn(0).getInt64();
    });
}

}  // namespace gallery::queue
