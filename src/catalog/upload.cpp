#include "gallery/catalog/upload.hpp"

#include "gallery/db/transaction.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/queue/reconcile.hpp"

namespace gallery::catalog {
namespace {

// The key may hold an object nothing else tracks: queue it and clear its intent, in
// one transaction. Returns `failure` with what happened to the key added.
Error queue_orphan(db::ConnectionPool& pool, const NewImage& image,
                   std::optional<std::uint64_t> size, const Clock& clock, Error failure) {
    std::optional<db::ConnectionPool::Lease> lease;
    try {
        lease.emplace(pool.acquire());
    } catch (const db::PoolTimeout& timeout) {
        // The key's intent stays: cleanup queues the key when the intent expires.
        failure.message += "; the object " + image.storage_key + " could not be queued now (" +
                           timeout.what() + "): its upload intent will have cleanup queue it";
        return failure;
    }
    db::Connection& connection = **lease;
    auto queued = db::write(connection, "upload: queue orphaned object", [&]() -> Result<void> {
        auto inserted =
            queue::enqueue(connection, {image.storage_key, image.client_id, size}, clock());
        if (!inserted) return std::unexpected(inserted.error());
        return queue::clear_intent(connection, image.storage_key);
    });
    if (!queued) {
        failure.message += "; the object " + image.storage_key +
                           " may be stored without a row and could not be queued (" +
                           queued.error().message + ")";
    }
    return failure;
}

}  // namespace

Result<Image> store_upload(db::ConnectionPool& pool, storage::Storage& storage,
                           const NewImage& image, std::string_view bytes, const Clock& clock,
                           AlsoOnInsert also, std::span<const ObjectWithImage> with) {
    // No connection is held while storage works: a stalled bucket must not take the
    // pool's connections from requests that only need the database.
    if (auto stored = storage.put(image.storage_key, bytes, image.content_type); !stored) {
        // A timed-out write may still have landed: let cleanup make sure it is gone.
        return std::unexpected(
            queue_orphan(pool, image, std::nullopt, clock,
                         with_context("upload: store " + image.storage_key, stored.error())));
    }
    for (const ObjectWithImage& object : with) {
        if (auto stored = storage.put(object.key, object.bytes, object.content_type); !stored) {
            return std::unexpected(
                queue_orphan(pool, image, image.size, clock,
                             with_context("upload: store " + object.key, stored.error())));
        }
    }
    auto inserted = [&]() -> Result<Image> {
        try {
            auto connection = pool.acquire();
            return insert_image(*connection, image, clock(), also);
        } catch (const db::PoolTimeout& timeout) {
            return std::unexpected(
                Error{ErrorKind::overloaded, std::string("upload: insert row: ") + timeout.what()});
        }
    }();
    if (!inserted)
        return std::unexpected(queue_orphan(pool, image, image.size, clock, inserted.error()));
    return inserted;
}

}  // namespace gallery::catalog
