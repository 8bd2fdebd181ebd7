// Restores from the queue (the restore window): a restorable row holds its image's
// columns, and bringing the image back removes the row in the same transaction, so a
// row is either restored or, once the cleaner's claim has made it pending, deleted;
// never both (ARCHITECTURE.md, invariant 9).

#include <algorithm>
#include <map>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "catalog/client_totals.hpp"
#include "catalog/image_rows.hpp"
#include "gallery/catalog/bulk.hpp"
#include "gallery/catalog/catalog.hpp"
#include "gallery/common/text.hpp"
#include "gallery/db/dialect.hpp"
#include "gallery/db/like.hpp"
#include "gallery/db/statement.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::catalog {
namespace {

// A queue row's image, in the order of k_image_columns, so read_image reads it.
constexpr const char* k_kept_image_columns =
    "image_id, filename, file_path, original_filename, client_id, name, description,"
    " size_bytes, content_type, uploaded_at";

// Takes the restorable rows that `where` (over deletion_queue, parameters from ?1)
// selects out of the queue and returns their images. A row whose id or key a live
// image holds (it cannot happen through the API: ids are never given twice and keys
// are random) stays queued rather than fail the whole restore.
std::vector<Image> take_back(db::Connection& connection, const std::string& where,
                             const std::function<void(db::Statement&)>& bind_where) {
    db::Statement take(connection, "DELETE FROM deletion_queue WHERE state = 'restorable' AND " +
                                       where +
                                       " AND NOT EXISTS (SELECT 1 FROM images WHERE images.id ="
                                       " deletion_queue.image_id OR images.storage_key ="
                                       " deletion_queue.file_path) RETURNING " +
                                       k_kept_image_columns);
    bind_where(take);
    std::vector<Image> images;
    while (take.step()) images.push_back(read_image(take));
    take.reset();
    return images;
}

// Puts `images` back with their clients' totals, the clients locked in ascending
// order of their folded ids (client_totals.hpp).
Result<void> put_back(db::Connection& connection, const std::vector<Image>& images) {
    if (images.empty()) return {};
    if (auto inserted = insert_images_as_is(connection, images); !inserted) return inserted;
    struct ClientChange {
        std::string client_id;
        std::int64_t count = 0;
        std::uint64_t size = 0;
        UnixMicros latest = 0;
        UnixMicros oldest = 0;
    };
    std::map<std::string, ClientChange> changes;
    for (const Image& image : images) {
        ClientChange& change = changes[to_lower(image.client_id)];
        if (change.count == 0) {
            change.client_id = image.client_id;
            change.latest = change.oldest = image.uploaded_at;
        }
        ++change.count;
        change.size += image.size;
        change.latest = std::max(change.latest, image.uploaded_at);
        change.oldest = std::min(change.oldest, image.uploaded_at);
    }
    for (const auto& [folded, change] : changes) {
        totals::add_images(connection, change.client_id, change.count, change.size, change.latest,
                           change.oldest);
    }
    return {};
}

}  // namespace

Result<RestoreOutcome> restore_images(db::Connection& connection, std::span<const ImageId> ids) {
    if (ids.empty()) return RestoreOutcome{};
    const std::string id_array =
        nlohmann::json(std::vector<ImageId>(ids.begin(), ids.end())).dump();
    return db::write(connection, "catalog: restore images", [&]() -> Result<RestoreOutcome> {
        std::vector<Image> images =
            take_back(connection, "image_id IN " + db::json_integer_array(connection, 1),
                      [&](db::Statement& statement) { statement.bind(1, id_array); });
        if (auto put = put_back(connection, images); !put) return std::unexpected(put.error());
        std::unordered_map<ImageId, bool> restored;
        for (const Image& image : images) restored.emplace(image.id, false);
        RestoreOutcome outcome;
        for (const ImageId id : ids) {
            const auto found = restored.find(id);
            if (found == restored.end() || found->second) continue;
            found->second = true;  // an id asked twice is reported once
            outcome.restored_ids.push_back(id);
        }
        return outcome;
    });
}

Result<RestoreOutcome> restore_client_images(db::Connection& connection,
                                             const std::string& client_id) {
    return db::write(connection, "catalog: restore client images", [&]() -> Result<RestoreOutcome> {
        // As delete_client_images: this client's uploads and deletes wait for it.
        totals::lock_client(connection, client_id);
        std::vector<Image> images =
            take_back(connection, "client_id COLLATE NOCASE = ?1 COLLATE NOCASE",
                      [&](db::Statement& statement) { statement.bind(1, client_id); });
        if (auto put = put_back(connection, images); !put) return std::unexpected(put.error());
        RestoreOutcome outcome;
        for (const Image& image : images) outcome.restored_ids.push_back(image.id);
        std::ranges::sort(outcome.restored_ids);
        return outcome;
    });
}

}  // namespace gallery::catalog

namespace gallery::catalog {

Result<RestorablePage> list_restorable(db::Connection& connection, const RestorableQuery& query) {
    return db::read("catalog: list restorable images", [&] {
        const std::string where =
            " WHERE state = 'restorable'" + image_filters(query.client_id, query.search);
        const auto bind_filters = [&](db::Statement& statement) {
            bind_image_filters(statement, query.client_id, query.search);
        };
        RestorablePage page;
        db::Statement count(connection, "SELECT COUNT(*) FROM deletion_queue" + where);
        bind_filters(count);
        count.step();
        page.total_count = count.int64(0);
        db::Statement list(connection, std::string("SELECT ") + k_kept_image_columns +
                                           ", queued_at, next_attempt_at FROM deletion_queue" +
                                           where +
                                           " ORDER BY queued_at DESC, id DESC LIMIT ?3"
                                           " OFFSET ?4");
        bind_filters(list);
        list.bind(3, query.page.page_size);
        list.bind(4, (query.page.page - 1) * query.page.page_size);
        while (list.step()) {
            RestorableImage row{read_image(list), list.int64(10), list.int64(11)};
            page.images.push_back(std::move(row));
        }
        return page;
    });
}

}  // namespace gallery::catalog
