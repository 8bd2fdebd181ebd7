#include "gallery/queue/browse.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include "gallery/db/guard.hpp"
#include "gallery/db/like.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::queue {
namespace {

struct SortSpec {
    const char* column;
    bool descending;
};

SortSpec sort_spec(QueueSort sort) {
    switch (sort) {
        case QueueSort::oldest:
            return {"id", false};
        case QueueSort::most_attempts:
            return {"attempts", true};
        case QueueSort::newest:
            break;
    }
    return {"id", true};
}

std::string id_list(std::span<const ItemId> ids) {
    std::string list;
    for (ItemId id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);
    return list;
}

}  // namespace

Result<QueuePage> browse(db::Connection& connection, const BrowseQuery& query, UnixMicros now) {
    return db::guard("queue: browse", [&] {
        const SortSpec sort = sort_spec(query.sort);
        const std::string column = sort.column;
        std::string sql =
            "SELECT id, file_path, client_id, queued_at, attempts, state, next_attempt_at,"
            " last_error, size_bytes, lease_expires_at, " +
            column + " FROM deletion_queue WHERE attempts >= :min_attempts";
        switch (query.state) {
            case StateFilter::pending:
                sql +=
                    " AND state = 'pending' AND (lease_expires_at IS NULL OR"
                    " lease_expires_at <= :now)";
                break;
            case StateFilter::leased:
                sql += " AND state = 'pending' AND lease_expires_at > :now";
                break;
            case StateFilter::dead:
                sql += " AND state = 'dead'";
                break;
            case StateFilter::all:
                break;
        }
        if (query.search) {
            sql +=
                " AND (file_path LIKE :search ESCAPE '\\' OR client_id LIKE :search ESCAPE '\\')";
        }
        const char* beyond = sort.descending ? "<" : ">";
        if (query.after) {
            sql += " AND (" + column + " " + beyond + " :after_value OR (" + column +
                   " = :after_value AND id " + beyond + " :after_id))";
        }
        const char* direction = sort.descending ? " DESC" : " ASC";
        sql += " ORDER BY " + column + direction + ", id" + direction + " LIMIT :limit";

        SQLite::Statement statement(connection.sqlite(), sql);
        statement.bind(":min_attempts", query.min_attempts);
        if (query.state == StateFilter::pending || query.state == StateFilter::leased)
            statement.bind(":now", now);
        if (query.search) statement.bind(":search", db::like_pattern(*query.search));
        if (query.after) {
            statement.bind(":after_value", query.after->first);
            statement.bind(":after_id", query.after->second);
        }
        statement.bind(":limit", static_cast<std::int64_t>(query.page_size + 1));
        QueuePage page;
        while (statement.executeStep()) {
            if (page.rows.size() == query.page_size) {
                page.has_more = true;
                break;
            }
            QueueRow row;
            row.id = statement.getColumn(0).getInt64();
            row.key = statement.getColumn(1).getString();
            row.client_id = statement.getColumn(2).getString();
            row.queued_at = statement.getColumn(3).getInt64();
            row.attempts = statement.getColumn(4).getInt();
            row.state = statement.getColumn(5).getString();
            row.next_attempt_at = statement.getColumn(6).getInt64();
            if (!statement.getColumn(7).isNull())
                row.last_error = statement.getColumn(7).getString();
            if (!statement.getColumn(8).isNull())
                row.size_bytes = static_cast<std::uint64_t>(statement.getColumn(8).getInt64());
            if (row.state == "pending" && !statement.getColumn(9).isNull() &&
                statement.getColumn(9).getInt64() > now) {
                row.state = "leased";
            }
            row.sort_value = statement.getColumn(10).getInt64();
            page.rows.push_back(std::move(row));
        }
        return page;
    });
}

Result<std::size_t> retry_selected(db::Connection& connection, std::span<const ItemId> ids,
                                   UnixMicros now) {
    return db::guard("queue: retry selected", [&] {
        if (ids.empty()) return std::size_t{0};
        db::WriteTransaction tx(connection);
        SQLite::Database& db = connection.sqlite();
        const std::string selected = "(" + id_list(ids) + ")";
        // The partial unique index allows one pending row per key: a dead row whose
        // key is pending already, or a second dead row of one key, is dropped.
        db.exec("DELETE FROM deletion_queue WHERE state = 'dead' AND id IN " + selected +
                " AND file_path IN (SELECT file_path FROM deletion_queue WHERE state = 'pending')");
        db.exec(
            "DELETE FROM deletion_queue WHERE state = 'dead' AND id IN " + selected +
            " AND id NOT IN (SELECT MAX(id) FROM deletion_queue WHERE state = 'dead' AND id IN " +
            selected + " GROUP BY file_path)");
        SQLite::Statement requeue(
            db,
            "UPDATE deletion_queue SET state = 'pending', attempts = 0,"
            " next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL"
            " WHERE state = 'dead' AND id IN " +
                selected);
        requeue.bind(1, now);
        const int requeued = requeue.exec();
        tx.commit();
        return static_cast<std::size_t>(requeued);
    });
}

Result<std::size_t> remove_selected(db::Connection& connection, std::span<const ItemId> ids,
                                    UnixMicros now) {
    return db::guard("queue: remove selected", [&] {
        if (ids.empty()) return std::size_t{0};
        db::WriteTransaction tx(connection);
        SQLite::Statement remove(connection.sqlite(),
                                 "DELETE FROM deletion_queue WHERE id IN (" + id_list(ids) +
                                     ") AND (lease_expires_at IS NULL OR lease_expires_at <= ?)");
        remove.bind(1, now);
        const int removed = remove.exec();
        tx.commit();
        return static_cast<std::size_t>(removed);
    });
}

}  // namespace gallery::queue
