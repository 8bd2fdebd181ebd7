#include "gallery/catalog/bulk.hpp"

#include <algorithm>
#include <map>

#include "catalog/client_totals.hpp"
#include "catalog/image_rows.hpp"
#include "gallery/common/text.hpp"
#include "gallery/db/dialect.hpp"
#include "gallery/db/statement.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::catalog {
namespace {

constexpr int k_columns_per_image = 10;

void bind_image(db::Statement& statement, int first, const Image& image) {
    statement.bind(first, image.id);
    statement.bind(first + 1, image.filename);
    statement.bind(first + 2, image.storage_key);
    statement.bind(first + 3, image.original_filename);
    statement.bind(first + 4, image.client_id);
    statement.bind(first + 5, image.name);
    statement.bind(first + 6, image.description);
    statement.bind(first + 7, static_cast<std::int64_t>(image.size));
    statement.bind(first + 8, image.content_type);
    statement.bind(first + 9, image.uploaded_at);
}

}  // namespace

Result<std::vector<Image>> images_between(db::Connection& connection, ImageId first_id,
                                          ImageId last_id) {
    return db::read("catalog: images by id", [&] {
        db::Statement query(connection, std::string("SELECT ") + k_image_columns +
                                            " FROM images WHERE id >= ?1 AND id <= ?2 ORDER BY id");
        query.bind(1, first_id);
        query.bind(2, last_id);
        std::vector<Image> images;
        while (query.step()) images.push_back(read_image(query));
        return images;
    });
}

Result<void> insert_images_as_is(db::Connection& connection, std::span<const Image> images) {
    return db::write(connection, "catalog: insert images", [&] {
        db::insert_rows(connection,
                        "INSERT INTO images (id, filename, storage_key, original_filename,"
                        " client_id, name, description, size, content_type, uploaded_at)",
                        k_columns_per_image, "", images.size(),
                        [&](db::Statement& statement, int first, std::size_t row) {
                            bind_image(statement, first, images[row]);
                        });
    });
}

Result<SetAsideIndexes> set_aside_read_indexes(db::Connection& connection) {
    return db::write(connection, "catalog: set read indexes aside", [&] {
        // The sort indexes on both engines; on SQLite also the search table's triggers
        // (its rows are rebuilt from `images` at the end). PostgreSQL's trigram GIN
        // indexes stay: built at the end of a 1,000,000-image import they took longer
        // than their row-by-row upkeep through GIN's pending list. Each row: whether it
        // is a trigger, its name, the statement that makes it again.
        const char* const listing =
            connection.engine() == db::Engine::postgresql
                ? "SELECT 0, indexname, indexdef FROM pg_indexes WHERE tablename = 'images'"
                  " AND schemaname = current_schema() AND indexname IN ('images_name',"
                  " 'images_size') ORDER BY indexname"
                : "SELECT type = 'trigger', name, sql FROM sqlite_master WHERE tbl_name ="
                  " 'images' AND ((type = 'index' AND name IN ('images_name', 'images_size'))"
                  " OR (type = 'trigger' AND name LIKE 'images_search_%')) ORDER BY type, name";
        struct Found {
            bool trigger;
            std::string name;
            std::string definition;
        };
        std::vector<Found> found;
        db::Statement objects(connection, listing);
        while (objects.step())
            found.push_back({objects.int64(0) != 0, objects.text(1), objects.text(2)});
        SetAsideIndexes set_aside;
        for (const Found& object : found) {
            db::execute_script(connection,
                               (object.trigger ? "DROP TRIGGER " : "DROP INDEX ") + object.name);
            set_aside.recreate.push_back(object.definition);
            set_aside.rebuild_search = set_aside.rebuild_search || object.trigger;
        }
        return set_aside;
    });
}

Result<void> restore_indexes(db::Connection& connection, const SetAsideIndexes& set_aside) {
    return db::write(connection, "catalog: build read indexes", [&] {
        for (const std::string& statement : set_aside.recreate)
            db::execute_script(connection, statement);
        if (set_aside.rebuild_search)
            db::execute_script(connection,
                               "INSERT INTO images_search (images_search) VALUES ('rebuild')");
    });
}

Result<bool> has_no_images(db::Connection& connection) {
    return db::read("catalog: any image", [&] {
        return db::query_int64(connection,
                               "SELECT COUNT(*) FROM (SELECT 1 FROM images LIMIT 1) AS one") == 0;
    });
}

Result<void> overwrite_image(db::Connection& connection, const Image& image) {
    return db::write(connection, "catalog: overwrite image", [&] {
        db::Statement update(connection,
                             "UPDATE images SET filename = ?2, storage_key = ?3,"
                             " original_filename = ?4, client_id = ?5, name = ?6, description = ?7,"
                             " size = ?8, content_type = ?9, uploaded_at = ?10 WHERE id = ?1");
        bind_image(update, 1, image);
        update.execute();
    });
}

Result<void> recount_client_totals(db::Connection& connection,
                                   std::span<const std::string> client_ids) {
    return db::write(connection, "catalog: recount client totals", [&] {
        // One entry per folded id, locked in ascending order (client_totals.hpp).
        std::map<std::string, std::string> clients;
        for (const std::string& client_id : client_ids)
            clients.emplace(to_lower(client_id), client_id);
        db::Statement spelling(connection,
                               "SELECT client_id FROM client_totals"
                               " WHERE client_id COLLATE NOCASE = ?1 COLLATE NOCASE");
        db::Statement first_upload(connection,
                                   "SELECT client_id FROM images WHERE client_id COLLATE NOCASE ="
                                   " ?1 COLLATE NOCASE ORDER BY uploaded_at, id LIMIT 1");
        db::Statement drop(
            connection,
            "DELETE FROM client_totals WHERE client_id COLLATE NOCASE = ?1 COLLATE NOCASE");
        db::Statement count(
            connection,
            "INSERT INTO client_totals (client_id, image_count, total_size, latest_upload,"
            " oldest_upload) SELECT ?2, COUNT(*), SUM(size), MAX(uploaded_at), MIN(uploaded_at)"
            " FROM images WHERE client_id COLLATE NOCASE = ?1 COLLATE NOCASE HAVING COUNT(*) > 0");
        for (const auto& [folded, client_id] : clients) {
            totals::lock_client(connection, client_id);
            spelling.bind(1, client_id);
            std::optional<std::string> kept;
            if (spelling.step()) kept = spelling.text(0);
            spelling.reset();
            if (!kept) {
                first_upload.bind(1, client_id);
                if (first_upload.step()) kept = first_upload.text(0);
                first_upload.reset();
            }
            drop.bind(1, client_id);
            drop.execute();
            if (!kept) continue;  // no image of this client is left
            count.bind(1, client_id);
            count.bind(2, *kept);
            count.execute();
        }
    });
}

Result<void> reserve_ids_through(db::Connection& connection, ImageId id) {
    return db::write(connection, "catalog: reserve ids",
                     [&] { db::raise_id_sequence(connection, "images", id); });
}

Result<std::vector<std::string>> storage_keys_after(db::Connection& connection,
                                                    const std::string& after_key,
                                                    std::size_t limit) {
    return db::read("catalog: storage keys", [&] {
        db::Statement query(connection,
                            "SELECT storage_key FROM images WHERE storage_key > ?1"
                            " ORDER BY storage_key LIMIT ?2");
        query.bind(1, after_key);
        query.bind(2, static_cast<std::int64_t>(limit));
        std::vector<std::string> keys;
        while (query.step()) keys.push_back(query.text(0));
        return keys;
    });
}

Result<std::optional<std::pair<std::string, std::string>>> storage_key_range(
    db::Connection& connection) {
    return db::read(
        "catalog: storage key range", [&]() -> std::optional<std::pair<std::string, std::string>> {
            db::Statement lowest(connection,
                                 "SELECT storage_key FROM images ORDER BY storage_key LIMIT 1");
            if (!lowest.step()) return std::nullopt;
            db::Statement highest(
                connection, "SELECT storage_key FROM images ORDER BY storage_key DESC LIMIT 1");
            highest.step();
            return std::pair{lowest.text(0), highest.text(0)};
        });
}

}  // namespace gallery::catalog
