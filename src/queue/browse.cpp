#include "gallery/queue/browse.hpp"

#include "gallery/db/statement.hpp"

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
    return db::read("queue: browse", [&] {
        const SortSpec sort = sort_spec(query.sort);
        const std::string column = sort.column;
        std::string sql =
            "SELECT id, file_path, client_id, queued_at, attempts, state, next_attempt_at,"
            " last_error, size_bytes, lease_expires_at, " +
            column + " FROM deletion_queue WHERE attempts >= ?1";
        switch (query.state) {
            case StateFilter::pending:
                sql +=
                    " AND state = 'pending' AND (lease_expires_at IS NULL OR"
                    " lease_expires_at <= ?2)";
                break;
            case StateFilter::leased:
                sql += " AND state = 'pending' AND lease_expires_at > ?2";
                break;
            case StateFilter::restorable:
                sql += " AND state = 'restorable'";
                break;
            case StateFilter::dead:
                sql += " AND state = 'dead'";
                break;
            case StateFilter::all:
                break;
        }
        if (query.search) {
            sql += " AND (file_path LIKE ?3 ESCAPE '\\' OR client_id LIKE ?3 ESCAPE '\\')";
        }
        const char* beyond = sort.descending ? "<" : ">";
        if (query.after) {
            sql += " AND (" + column + " " + beyond + " ?4 OR (" + column + " = ?4 AND id " +
                   beyond + " ?5))";
        }
        const char* direction = sort.descending ? " DESC" : " ASC";
        sql += " ORDER BY " + column + direction + ", id" + direction + " LIMIT ?6";

        db::Statement statement(connection, sql);
        statement.bind(1, query.min_attempts);
        if (query.state == StateFilter::pending || query.state == StateFilter::leased)
            statement.bind(2, now);
        if (query.search) statement.bind(3, db::like_pattern(*query.search));
        if (query.after) {
            statement.bind(4, query.after->first);
            statement.bind(5, query.after->second);
        }
        statement.bind(6, static_cast<std::int64_t>(query.page_size + 1));
        QueuePage page;
        while (statement.step()) {
            if (page.rows.size() == query.page_size) {
                page.has_more = true;
                break;
            }
            QueueRow row;
            row.id = statement.int64(0);
            row.key = statement.text(1);
            row.client_id = statement.text(2);
            row.queued_at = statement.int64(3);
            row.attempts = static_cast<int>(statement.int64(4));
            row.state = statement.text(5);
            row.next_attempt_at = statement.int64(6);
            if (!statement.is_null(7)) row.last_error = statement.text(7);
            if (!statement.is_null(8))
                row.size_bytes = static_cast<std::uint64_t>(statement.int64(8));
            if (row.state == "pending" && !statement.is_null(9) && statement.int64(9) > now) {
                row.state = "leased";
            }
            row.sort_value = statement.int64(10);
            page.rows.push_back(std::move(row));
        }
        return page;
    });
}

Result<std::size_t> retry_selected(db::Connection& connection, std::span<const ItemId> ids,
                                   UnixMicros now) {
    if (ids.empty()) return std::size_t{0};
    return db::write(connection, "queue: retry selected", [&] {
        const std::string selected = "(" + id_list(ids) + ")";
        // The partial unique index allows one pending row per key: a dead row whose
        // key is pending already, or a second dead row of one key, is dropped.
        db::execute_script(
            connection,
            "DELETE FROM deletion_queue WHERE state = 'dead' AND id IN " + selected +
                " AND file_path IN (SELECT file_path FROM deletion_queue WHERE state = 'pending')");
        db::execute_script(connection,
                           "DELETE FROM deletion_queue WHERE state = 'dead' AND id IN " + selected +
                               " AND id NOT IN (SELECT MAX(id) FROM deletion_queue WHERE state = "
                               "'dead' AND id IN " +
                               selected + " GROUP BY file_path)");
        db::Statement requeue(connection,
                              "UPDATE deletion_queue SET state = 'pending', attempts = 0,"
                              " next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL"
                              " WHERE state = 'dead' AND id IN " +
                                  selected);
        requeue.bind(1, now);
        const std::int64_t requeued = requeue.execute();
        return static_cast<std::size_t>(requeued);
    });
}

Result<std::size_t> remove_selected(db::Connection& connection, std::span<const ItemId> ids,
                                    UnixMicros now) {
    if (ids.empty()) return std::size_t{0};
    return db::write(connection, "queue: remove selected", [&] {
        db::Statement remove(connection,
                             "DELETE FROM deletion_queue WHERE id IN (" + id_list(ids) +
                                 ") AND (lease_expires_at IS NULL OR lease_expires_at <= ?)");
        remove.bind(1, now);
        const std::int64_t removed = remove.execute();
        return static_cast<std::size_t>(removed);
    });
}

}  // namespace gallery::queue
