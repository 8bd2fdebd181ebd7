#include "gallery/catalog/catalog.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <nlohmann/json.hpp>

#include "catalog/client_totals.hpp"
#include "gallery/db/guard.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::catalog {
namespace {

void bind_optional(SQLite::Statement& statement, int index,
                   const std::optional<std::string>& value) {
    if (value)
        statement.bind(index, *value);
    else
        statement.bind(index);
}

// The queue insert shared by both deletes; `{images}` is a WHERE clause on images.
// ON CONFLICT keeps "a key is pending at most once".
std::string queue_insert_sql(const std::string& where) {
    return "INSERT INTO deletion_queue (file_path, client_id, queued_at, next_attempt_at, "
           "size_bytes)"
           " SELECT storage_key, client_id, ?1, ?1, size FROM images WHERE " +
           where + " ON CONFLICT (file_path) WHERE state = 'pending' DO NOTHING";
}

}  // namespace

Result<Image> insert_image(db::Connection& connection, const NewImage& image, UnixMicros now) {
    return db::guard("catalog: insert image", [&] {
        db::WriteTransaction tx(connection);
        SQLite::Statement insert(
            connection.sqlite(),
            "INSERT INTO images (filename, storage_key, original_filename, client_id, name,"
            " description, size, content_type, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        insert.bind(1, image.filename);
        insert.bind(2, image.storage_key);
        insert.bind(3, image.original_filename);
        insert.bind(4, image.client_id);
        bind_optional(insert, 5, image.name);
        bind_optional(insert, 6, image.description);
        insert.bind(7, static_cast<std::int64_t>(image.size));
        insert.bind(8, image.content_type);
        insert.bind(9, now);
        insert.exec();
        totals::add_image(connection.sqlite(), image.client_id, image.size, now);
        // The row's commit clears the upload's intent (see queue/reconcile.hpp).
        SQLite::Statement clear_intent(connection.sqlite(),
                                       "DELETE FROM upload_intents WHERE storage_key = ?");
        clear_intent.bind(1, image.storage_key);
        clear_intent.exec();
        const ImageId id = connection.sqlite().getLastInsertRowid();
        tx.commit();
        return Image{id,
                     image.filename,
                     image.storage_key,
                     image.original_filename,
                     image.client_id,
                     image.name,
                     image.description,
                     image.size,
                     image.content_type,
                     now};
    });
}

Result<DeleteOutcome> delete_images(db::Connection& connection, std::span<const ImageId> ids,
                                    UnixMicros now) {
    return db::guard("catalog: delete images", [&] {
        SQLite::Database& db = connection.sqlite();
        // The ids travel as one JSON array parameter: no SQL variable limit, nothing formatted into
        // SQL.
        const std::string id_array =
            nlohmann::json(std::vector<ImageId>(ids.begin(), ids.end())).dump();
        const std::string where = "id IN (SELECT value FROM json_each(?2))";
        db::WriteTransaction tx(connection);
        struct ClientChange {
            std::string client_id;
            std::int64_t count;
            std::uint64_t size;
        };
        std::vector<ClientChange> changes;
        SQLite::Statement per_client(
            db, "SELECT MIN(client_id), COUNT(*), SUM(size) FROM images WHERE " + where +
                    " GROUP BY client_id COLLATE NOCASE");
        per_client.bind(2, id_array);
        while (per_client.executeStep()) {
            changes.push_back({per_client.getColumn(0).getString(),
                               per_client.getColumn(1).getInt64(),
                               static_cast<std::uint64_t>(per_client.getColumn(2).getInt64())});
        }
        SQLite::Statement queue_rows(db, queue_insert_sql(where));
        queue_rows.bind(1, now);
        queue_rows.bind(2, id_array);
        DeleteOutcome outcome;
        outcome.files_queued = static_cast<std::size_t>(queue_rows.exec());
        SQLite::Statement remove(db, "DELETE FROM images WHERE " + where + " RETURNING id");
        remove.bind(2, id_array);
        while (remove.executeStep()) outcome.deleted_ids.push_back(remove.getColumn(0).getInt64());
        remove.reset();
        for (const ClientChange& change : changes)
            totals::remove_images(db, change.client_id, change.count, change.size);
        outcome.deleted_count = outcome.deleted_ids.size();
        tx.commit();
        return outcome;
    });
}

Result<DeleteOutcome> delete_client_images(db::Connection& connection, const std::string& client_id,
                                           UnixMicros now) {
    return db::guard("catalog: delete client images", [&] {
        const std::string where = "client_id = ?2 COLLATE NOCASE";
        db::WriteTransaction tx(connection);
        SQLite::Statement queue_rows(connection.sqlite(), queue_insert_sql(where));
        queue_rows.bind(1, now);
        queue_rows.bind(2, client_id);
        DeleteOutcome outcome;
        outcome.files_queued = static_cast<std::size_t>(queue_rows.exec());
        SQLite::Statement remove(connection.sqlite(),
                                 "DELETE FROM images WHERE client_id = ? COLLATE NOCASE");
        remove.bind(1, client_id);
        outcome.deleted_count = static_cast<std::size_t>(remove.exec());
        totals::drop_client(connection.sqlite(), client_id);
        tx.commit();
        return outcome;
    });
}

Result<std::vector<bool>> keys_in_use(db::Connection& connection,
                                      std::span<const std::string> keys) {
    return db::guard("catalog: check live keys", [&] {
        SQLite::Statement lookup(connection.sqlite(), "SELECT 1 FROM images WHERE storage_key = ?");
        std::vector<bool> in_use;
        in_use.reserve(keys.size());
        for (const std::string& key : keys) {
            lookup.bind(1, key);
            in_use.push_back(lookup.executeStep());
            lookup.reset();
        }
        return in_use;
    });
}

Result<std::vector<KeyedImage>> image_keys_after(db::Connection& connection, ImageId after_id,
                                                 std::size_t limit) {
    return db::guard("catalog: image keys", [&] {
        SQLite::Statement query(
            connection.sqlite(),
            "SELECT id, storage_key, size FROM images WHERE id > ? ORDER BY id LIMIT ?");
        query.bind(1, after_id);
        query.bind(2, static_cast<std::int64_t>(limit));
        std::vector<KeyedImage> page;
        while (query.executeStep()) {
            page.push_back({query.getColumn(0).getInt64(), query.getColumn(1).getString(),
                            static_cast<std::uint64_t>(query.getColumn(2).getInt64())});
        }
        return page;
    });
}

Result<Stats> stats(db::Connection& connection, std::optional<std::size_t> top_clients) {
    return db::guard("catalog: stats", [&] {
        SQLite::Database& db = connection.sqlite();
        Stats result;
        SQLite::Statement totals(
            db,
            "SELECT COALESCE(SUM(image_count), 0), COALESCE(SUM(total_size), 0), COUNT(*)"
            " FROM client_totals");
        totals.executeStep();
        result.total_images = totals.getColumn(0).getInt64();
        result.total_size = static_cast<std::uint64_t>(totals.getColumn(1).getInt64());
        result.unique_clients = totals.getColumn(2).getInt64();
        SQLite::Statement by_client(db,
                                    "SELECT client_id, image_count, total_size FROM client_totals"
                                    " ORDER BY image_count DESC, client_id LIMIT ?");
        by_client.bind(1, top_clients ? static_cast<std::int64_t>(*top_clients) : std::int64_t{-1});
        while (by_client.executeStep()) {
            result.by_client.push_back(
                {by_client.getColumn(0).getString(), by_client.getColumn(1).getInt64(),
                 static_cast<std::uint64_t>(by_client.getColumn(2).getInt64())});
        }
        return result;
    });
}

}  // namespace gallery::catalog
