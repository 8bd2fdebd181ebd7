#include "gallery/catalog/catalog.hpp"

#include "gallery/db/dialect.hpp"
#include "gallery/db/statement.hpp"

#include <limits>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "catalog/client_totals.hpp"
#include "gallery/common/text.hpp"
#include "gallery/db/transaction.hpp"
#include "gallery/queue/deleted_images.hpp"
#include "gallery/queue/reconcile.hpp"

namespace gallery::catalog {

Result<Image> insert_image(db::Connection& connection, const NewImage& image, UnixMicros now,
                           const AlsoOnInsert& also) {
    return db::write(connection, "catalog: insert image", [&]() -> Result<Image> {
        db::Statement insert(
            connection,
            "INSERT INTO images (filename, storage_key, original_filename, client_id, name,"
            " description, size, content_type, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING id");
        insert.bind(1, image.filename);
        insert.bind(2, image.storage_key);
        insert.bind(3, image.original_filename);
        insert.bind(4, image.client_id);
        insert.bind(5, image.name);
        insert.bind(6, image.description);
        insert.bind(7, image.size);
        insert.bind(8, image.content_type);
        insert.bind(9, now);
        insert.step();
        const ImageId id = insert.int64(0);
        insert.reset();
        totals::add_image(connection, image.client_id, image.size, now);
        // The row's commit clears the upload's intent (see queue/reconcile.hpp).
        if (auto cleared = queue::clear_intent(connection, image.storage_key); !cleared)
            return std::unexpected(cleared.error());
        Image inserted{id,
                       image.filename,
                       image.storage_key,
                       image.original_filename,
                       image.client_id,
                       image.name,
                       image.description,
                       image.size,
                       image.content_type,
                       now};
        if (also) {
            if (auto done = also(connection, inserted); !done) return std::unexpected(done.error());
        }
        return inserted;
    });
}

namespace {

std::optional<UnixMicros> window_end(UnixMicros now, std::chrono::seconds restore_window) {
    if (restore_window <= std::chrono::seconds::zero()) return std::nullopt;
    return now + restore_window.count() * k_micros_per_second;
}

}  // namespace

Result<DeleteOutcome> delete_images(db::Connection& connection, std::span<const ImageId> ids,
                                    UnixMicros now, std::chrono::seconds restore_window) {
    // The ids travel as one JSON array parameter: no SQL variable limit, nothing formatted
    // into SQL.
    const std::string id_array =
        nlohmann::json(std::vector<ImageId>(ids.begin(), ids.end())).dump();
    return db::write(connection, "catalog: delete images", [&]() -> Result<DeleteOutcome> {
        auto queued = queue::enqueue_images(
            connection,
            queue::ImageSelection::of_images(std::vector<ImageId>(ids.begin(), ids.end())), now,
            window_end(now, restore_window));
        if (!queued) return std::unexpected(queued.error());
        DeleteOutcome outcome;
        outcome.files_queued = *queued;
        // The totals follow what this DELETE removed: a concurrent delete of the same ids
        // (another host, PostgreSQL) removes each row once and counts it once.
        totals::ClientChanges changes;
        db::Statement remove(connection, "DELETE FROM images WHERE id IN " +
                                             db::json_integer_array(connection, 1) +
                                             " RETURNING id, client_id, size");
        remove.bind(1, id_array);
        while (remove.step()) {
            outcome.deleted_ids.push_back(remove.int64(0));
            changes.add(remove.text(1), static_cast<std::uint64_t>(remove.int64(2)));
        }
        remove.reset();
        for (const auto& [folded, change] : changes)
            totals::remove_images(connection, change.client_id, change.count, change.size);
        outcome.deleted_count = outcome.deleted_ids.size();
        return outcome;
    });
}

Result<DeleteOutcome> delete_client_images(db::Connection& connection, const std::string& client_id,
                                           UnixMicros now, std::chrono::seconds restore_window) {
    return db::write(connection, "catalog: delete client images", [&]() -> Result<DeleteOutcome> {
        // First: an upload of this client that has not committed yet waits until this
        // delete has queued and removed exactly the rows it saw.
        totals::lock_client(connection, client_id);
        auto queued = queue::enqueue_images(connection, queue::ImageSelection::of_client(client_id),
                                            now, window_end(now, restore_window));
        if (!queued) return std::unexpected(queued.error());
        DeleteOutcome outcome;
        outcome.files_queued = *queued;
        db::Statement remove(
            connection, "DELETE FROM images WHERE client_id COLLATE NOCASE = ?1 COLLATE NOCASE");
        remove.bind(1, client_id);
        outcome.deleted_count = static_cast<std::size_t>(remove.execute());
        totals::drop_client(connection, client_id);
        return outcome;
    });
}

Result<std::vector<KeyedImage>> image_keys_after(db::Connection& connection, ImageId after_id,
                                                 std::size_t limit) {
    return db::read("catalog: image keys", [&] {
        db::Statement query(
            connection,
            "SELECT id, storage_key, size FROM images WHERE id > ? ORDER BY id LIMIT ?");
        query.bind(1, after_id);
        query.bind(2, static_cast<std::int64_t>(limit));
        std::vector<KeyedImage> page;
        while (query.step()) {
            page.push_back(
                {query.int64(0), query.text(1), static_cast<std::uint64_t>(query.int64(2))});
        }
        return page;
    });
}

Result<Stats> stats(db::Connection& connection, std::optional<std::size_t> top_clients) {
    return db::read("catalog: stats", [&] {
        Stats result;
        db::Statement totals(
            connection,
            "SELECT COALESCE(SUM(image_count), 0), COALESCE(SUM(total_size), 0), COUNT(*)"
            " FROM client_totals");
        totals.step();
        result.total_images = totals.int64(0);
        result.total_size = static_cast<std::uint64_t>(totals.int64(1));
        result.unique_clients = totals.int64(2);
        db::Statement by_client(connection,
                                "SELECT client_id, image_count, total_size FROM client_totals"
                                " ORDER BY image_count DESC, client_id COLLATE NOCASE ASC LIMIT ?");
        by_client.bind(1, top_clients ? static_cast<std::int64_t>(*top_clients)
                                      : std::numeric_limits<std::int64_t>::max());
        while (by_client.step()) {
            result.by_client.push_back({by_client.text(0), by_client.int64(1),
                                        static_cast<std::uint64_t>(by_client.int64(2))});
        }
        return result;
    });
}

}  // namespace gallery::catalog
