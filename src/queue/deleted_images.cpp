#include "gallery/queue/deleted_images.hpp"

#include <nlohmann/json.hpp>

#include "gallery/db/like.hpp"
#include "gallery/db/transaction.hpp"
#include "queue/image_copy.hpp"
#include "queue/live_key.hpp"
#include "queue/queued_once.hpp"

namespace gallery::queue {

void bind_selection(db::Statement& statement, const ImageSelection& selection, int parameter) {
    if (selection.scope == ImageSelection::Scope::images)
        statement.bind(parameter, nlohmann::json(selection.image_ids).dump());
    if (selection.scope == ImageSelection::Scope::client)
        statement.bind(parameter, selection.client_id);
}

namespace {

bool selects_nothing(const ImageSelection& selection) {
    return selection.scope == ImageSelection::Scope::images && selection.image_ids.empty();
}

}  // namespace

Result<std::size_t> enqueue_images(db::Connection& connection, const ImageSelection& selection,
                                   UnixMicros now, std::optional<UnixMicros> restorable_until) {
    if (selects_nothing(selection)) return std::size_t{0};
    return db::write(connection, "queue: enqueue images", [&] {
        // The image's columns under the queue's names (k_image_copy_columns' order).
        const std::string images =
            " FROM images WHERE " + selection_condition(connection, selection, "id", 3);
        const std::string sql =
            restorable_until
                ? std::string("INSERT INTO deletion_queue (queued_at, next_attempt_at, state, ") +
                      k_image_copy_columns +
                      ") SELECT ?1, ?2, 'restorable', id, filename, storage_key,"
                      " original_filename, client_id, name, description, size, content_type,"
                      " uploaded_at" +
                      images + k_queued_once
                : "INSERT INTO deletion_queue (queued_at, next_attempt_at, file_path, client_id,"
                  " size_bytes) SELECT ?1, ?2, storage_key, client_id, size" +
                      images + k_queued_once;
        db::Statement insert(connection, sql);
        insert.bind(1, now);
        insert.bind(2, restorable_until.value_or(now));
        bind_selection(insert, selection, 3);
        return static_cast<std::size_t>(insert.execute());
    });
}

Result<std::vector<ImageCopy>> take_back(db::Connection& connection,
                                         const ImageSelection& selection) {
    if (selects_nothing(selection)) return std::vector<ImageCopy>{};
    return db::write(connection, "queue: take back restorable", [&] {
        db::Statement take(connection,
                           "DELETE FROM deletion_queue WHERE state = 'restorable' AND " +
                               selection_condition(connection, selection, "image_id", 1) +
                               " AND NOT EXISTS (SELECT 1 FROM images WHERE images.id ="
                               " deletion_queue.image_id) AND NOT " +
                               live_image_holds("deletion_queue.file_path") + " RETURNING " +
                               k_image_copy_columns);
        bind_selection(take, selection, 1);
        std::vector<ImageCopy> images;
        while (take.step()) images.push_back(read_image_copy(take));
        take.reset();
        return images;
    });
}

Result<std::vector<std::int64_t>> purge_restorable(db::Connection& connection,
                                                   const ImageSelection& selection,
                                                   UnixMicros now) {
    if (selects_nothing(selection)) return std::vector<std::int64_t>{};
    return db::write(connection, "queue: purge restorable", [&] {
        // The rows first (their image ids go with the copy below), locked on PostgreSQL
        // so a restore of the same rows waits and then finds them gone.
        db::Statement chosen(connection,
                             "SELECT id, image_id FROM deletion_queue WHERE state = 'restorable'"
                             " AND " +
                                 selection_condition(connection, selection, "image_id", 1) +
                                 " ORDER BY image_id" + db::for_update(connection));
        bind_selection(chosen, selection, 1);
        std::vector<std::int64_t> rows;
        std::vector<std::int64_t> image_ids;
        while (chosen.step()) {
            rows.push_back(chosen.int64(0));
            image_ids.push_back(chosen.int64(1));
        }
        chosen.reset();
        if (rows.empty()) return image_ids;
        // As a window that ran out (claim): pending, the copy cleared; due now.
        db::Statement purge(connection,
                            std::string("UPDATE deletion_queue SET state = 'pending', ") +
                                k_clear_image_copy +
                                ", next_attempt_at = ?1, purged_at = ?1 WHERE id IN " +
                                db::json_integer_array(connection, 2));
        purge.bind(1, now);
        purge.bind(2, nlohmann::json(rows).dump());
        purge.execute();
        return image_ids;
    });
}

Result<RestorablePage> list_restorable(db::Connection& connection, const RestorableQuery& query) {
    return db::read("queue: list restorable images", [&] {
        // The search matches what the images list's does (catalog::list_images): a
        // substring of the name, the description or either file name, in the copy.
        std::string where = " WHERE state = 'restorable'";
        if (query.client_id) where += " AND client_id COLLATE NOCASE = ?1 COLLATE NOCASE";
        if (query.search) {
            where +=
                " AND (name LIKE ?2 ESCAPE '\\' OR description LIKE ?2 ESCAPE '\\'"
                " OR filename LIKE ?2 ESCAPE '\\' OR original_filename LIKE ?2 ESCAPE '\\')";
        }
        const auto bind_filters = [&](db::Statement& statement) {
            if (query.client_id) statement.bind(1, *query.client_id);
            if (query.search) statement.bind(2, db::like_pattern(*query.search));
        };
        RestorablePage page;
        db::Statement count(connection, "SELECT COUNT(*) FROM deletion_queue" + where);
        bind_filters(count);
        count.step();
        page.total_count = count.int64(0);
        const std::int64_t offset = (query.page - 1) * query.page_size;
        if (offset >= page.total_count) return page;
        db::Statement list(connection, std::string("SELECT ") + k_image_copy_columns +
                                           ", queued_at, next_attempt_at FROM deletion_queue" +
                                           where +
                                           " ORDER BY queued_at DESC, id DESC LIMIT ?3 OFFSET ?4");
        bind_filters(list);
        list.bind(3, query.page_size);
        list.bind(4, offset);
        while (list.step())
            page.images.push_back({read_image_copy(list), list.int64(10), list.int64(11)});
        return page;
    });
}

Result<std::optional<std::string>> restorable_key(db::Connection& connection,
                                                  std::int64_t image_id) {
    return db::read("queue: restorable key", [&]() -> std::optional<std::string> {
        db::Statement find(connection,
                           "SELECT file_path FROM deletion_queue WHERE state = 'restorable'"
                           " AND image_id = ?");
        find.bind(1, image_id);
        if (!find.step()) return std::nullopt;
        return find.text(0);
    });
}

}  // namespace gallery::queue
