// Restores from the restore window: the queue gives back the copies its restorable rows
// kept (queue::take_back), and the images go back with their clients' totals in the
// same transaction, so a row is either restored or, once the cleaner's claim has made
// it pending, deleted; never both (ARCHITECTURE.md, invariant 9).

#include <algorithm>
#include <unordered_map>

#include "catalog/client_totals.hpp"
#include "gallery/catalog/bulk.hpp"
#include "gallery/catalog/catalog.hpp"
#include "gallery/db/transaction.hpp"
#include "gallery/queue/deleted_images.hpp"

namespace gallery::catalog {
namespace {

Image image_of(queue::ImageCopy copy) {
    return {copy.id,
            std::move(copy.filename),
            std::move(copy.storage_key),
            std::move(copy.original_filename),
            std::move(copy.client_id),
            std::move(copy.name),
            std::move(copy.description),
            copy.size,
            std::move(copy.content_type),
            copy.uploaded_at};
}

// Takes the selected images out of the queue and puts them back with their clients'
// totals, the clients locked in ascending order of their folded ids (client_totals.hpp).
Result<std::vector<Image>> bring_back(db::Connection& connection,
                                      const queue::ImageSelection& selection) {
    auto copies = queue::take_back(connection, selection);
    if (!copies) return std::unexpected(copies.error());
    std::vector<Image> images;
    images.reserve(copies->size());
    for (queue::ImageCopy& copy : *copies) images.push_back(image_of(std::move(copy)));
    if (images.empty()) return images;
    if (auto inserted = insert_images_as_is(connection, images); !inserted)
        return std::unexpected(inserted.error());
    totals::ClientChanges changes;
    for (const Image& image : images) changes.add(image.client_id, image.size, image.uploaded_at);
    for (const auto& [folded, change] : changes) {
        totals::add_images(connection, change.client_id, change.count, change.size,
                           change.latest_upload, change.oldest_upload);
    }
    return images;
}

}  // namespace

Result<RestoreOutcome> restore_images(db::Connection& connection, std::span<const ImageId> ids) {
    if (ids.empty()) return RestoreOutcome{};
    return db::write(connection, "catalog: restore images", [&]() -> Result<RestoreOutcome> {
        auto images = bring_back(connection, queue::ImageSelection::of_images(
                                                 std::vector<ImageId>(ids.begin(), ids.end())));
        if (!images) return std::unexpected(images.error());
        std::unordered_map<ImageId, bool> restored;
        for (const Image& image : *images) restored.emplace(image.id, false);
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
        auto images = bring_back(connection, queue::ImageSelection::of_client(client_id));
        if (!images) return std::unexpected(images.error());
        RestoreOutcome outcome;
        for (const Image& image : *images) outcome.restored_ids.push_back(image.id);
        std::ranges::sort(outcome.restored_ids);
        return outcome;
    });
}

}  // namespace gallery::catalog
