#include "gallery/queue/browse.hpp"

#include "gallery/db/statement.hpp"

#include "gallery/db/dialect.hpp"
#include "gallery/db/like.hpp"
#include "gallery/db/transaction.hpp"
#include "queue/queued_once.hpp"

namespace gallery::queue {
namespace {

std::string id_list(std::span<const ItemId> ids) {
    std::string list;
    for (ItemId id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);
    return list;
}

using Cursor = std::pair<std::int64_t, ItemId>;

// What every statement of one page shares.
struct PageQuery {
    const BrowseQuery& query;
    UnixMicros now;
    std::string sort_column;
    // The filter's state test ("" for no state, and for leased, which tests more):
    // marked likely() when the state is common (state_is_common).
    std::string state_test;
};

// One statement of a page: `condition` picks the index that serves `order`.
struct PagePart {
    std::string_view condition;
    std::string_view order;
    std::optional<Cursor> after;
    std::size_t limit;
};

// A page of `state`'s rows costs about page_rows / share rows read along the order's
// index, or share x queue rows read through a state index and sorted: the first while
// share^2 x queue >= page_rows. The counts come from queue_counters (invariant 8).
bool state_is_common(db::Connection& connection, std::string_view state, std::size_t page_rows) {
    db::Statement counts(connection,
                         "SELECT COALESCE(SUM(CASE WHEN state = ?1 THEN rows ELSE 0 END), 0),"
                         " COALESCE(SUM(rows), 0) FROM queue_counters");
    counts.bind(1, state);
    counts.step();
    const double of_state = static_cast<double>(counts.int64(0));
    const double all = static_cast<double>(counts.int64(1));
    return of_state * of_state >= static_cast<double>(page_rows) * all;
}

// Parameters: ?1 min_attempts, ?2 now, ?3 the search, ?4 and ?5 the cursor, ?6 limit.
void read_rows(db::Connection& connection, const PageQuery& page, const PagePart& part,
               std::vector<QueueRow>& rows) {
    const BrowseQuery& query = page.query;
    const UnixMicros now = page.now;
    const std::string& sort_column = page.sort_column;
    std::string sql =
        "SELECT id, file_path, client_id, queued_at, attempts, state, next_attempt_at,"
        " last_error, size_bytes, lease_expires_at, " +
        sort_column + " FROM deletion_queue WHERE attempts >= ?1" + std::string(part.condition);
    switch (query.state) {
        case StateFilter::pending:
            sql += " AND " + page.state_test +
                   " AND (lease_expires_at IS NULL OR lease_expires_at <= ?2)";
            break;
        case StateFilter::leased:
            // A lease moves next_attempt_at to its expiry (claim, renew_lease), so the
            // leased rows are within the (state, next_attempt_at) index's few rows
            // not due yet: that range, sorted, instead of every pending row.
            sql += " AND state = 'pending' AND next_attempt_at > ?2 AND lease_expires_at > ?2";
            break;
        case StateFilter::restorable:
        case StateFilter::dead:
            sql += " AND " + page.state_test;
            break;
        case StateFilter::all:
            break;
    }
    if (query.search) {
        sql += " AND (file_path LIKE ?3 ESCAPE '\\' OR client_id LIKE ?3 ESCAPE '\\')";
    }
    const bool descending = query.sort != QueueSort::oldest;
    const char* beyond = descending ? "<" : ">";
    if (part.after) {
        sql += " AND (" + sort_column + " " + beyond + " ?4 OR (" + sort_column + " = ?4 AND id " +
               beyond + " ?5))";
    }
    sql += " ORDER BY " + std::string(part.order) + " LIMIT ?6";

    db::Statement statement(connection, sql);
    statement.bind(1, query.min_attempts);
    if (query.state == StateFilter::pending || query.state == StateFilter::leased)
        statement.bind(2, now);
    if (query.search) statement.bind(3, db::like_pattern(*query.search));
    if (part.after) {
        statement.bind(4, part.after->first);
        statement.bind(5, part.after->second);
    }
    statement.bind(6, static_cast<std::int64_t>(part.limit));
    while (statement.step()) {
        QueueRow row;
        row.id = statement.int64(0);
        row.key = statement.text(1);
        row.client_id = statement.text(2);
        row.queued_at = statement.int64(3);
        row.attempts = static_cast<int>(statement.int64(4));
        row.state = statement.text(5);
        row.next_attempt_at = statement.int64(6);
        if (!statement.is_null(7)) row.last_error = statement.text(7);
        if (!statement.is_null(8)) row.size_bytes = static_cast<std::uint64_t>(statement.int64(8));
        if (row.state == "pending" && !statement.is_null(9) && statement.int64(9) > now) {
            row.state = "leased";
        }
        row.sort_value = statement.int64(10);
        rows.push_back(std::move(row));
    }
}

}  // namespace

Result<QueuePage> browse(db::Connection& connection, const BrowseQuery& query, UnixMicros now) {
    return db::read("queue: browse", [&] {
        // One row more than the page tells whether another page follows.
        const std::size_t wanted = query.page_size + 1;
        const char* state = query.state == StateFilter::pending      ? "pending"
                            : query.state == StateFilter::restorable ? "restorable"
                            : query.state == StateFilter::dead       ? "dead"
                                                                     : nullptr;
        std::string state_test;
        if (state) {
            state_test = std::string("state = '") + state + "'";
            // likely() must wrap the state test alone for SQLite's planner to leave the
            // state indexes aside.
            if (state_is_common(connection, state, wanted))
                state_test = db::usually_true(connection, state_test);
        }
        const PageQuery page_query{query, now,
                                   query.sort == QueueSort::most_attempts ? "attempts" : "id",
                                   std::move(state_test)};
        std::vector<QueueRow> rows;
        switch (query.sort) {
            case QueueSort::newest:
                read_rows(connection, page_query, {"", "id DESC", query.after, wanted}, rows);
                break;
            case QueueSort::oldest:
                read_rows(connection, page_query, {"", "id ASC", query.after, wanted}, rows);
                break;
            case QueueSort::most_attempts: {
                // Rows that have failed come first, from migration 0014's index of them;
                // then the rows never tried (nearly all of a large queue), newest first,
                // from the table's own id order. A cursor with 0 attempts is past the
                // first part.
                const bool after_failed = query.after && query.after->first <= 0;
                if (!after_failed) {
                    read_rows(connection, page_query,
                              {" AND attempts > 0", "attempts DESC, id DESC", query.after, wanted},
                              rows);
                }
                if (rows.size() < wanted && query.min_attempts <= 0) {
                    read_rows(connection, page_query,
                              {" AND attempts = 0", "id DESC",
                               after_failed ? query.after : std::nullopt, wanted - rows.size()},
                              rows);
                }
                break;
            }
        }
        QueuePage page;
        page.has_more = rows.size() > query.page_size;
        if (page.has_more) rows.resize(query.page_size);
        page.rows = std::move(rows);
        return page;
    });
}

Result<std::size_t> retry_selected(db::Connection& connection, std::span<const ItemId> ids,
                                   UnixMicros now) {
    if (ids.empty()) return std::size_t{0};
    return db::write(connection, "queue: retry selected", [&] {
        const std::string selected = "(" + id_list(ids) + ")";
        // The partial unique index allows one queued (pending or restorable) row per
        // key: a dead row whose key is queued already, or a second dead row of one key,
        // is dropped.
        db::execute_script(connection,
                           "DELETE FROM deletion_queue WHERE state = 'dead' AND id IN " + selected +
                               " AND " + k_key_queued_elsewhere);
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
