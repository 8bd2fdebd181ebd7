#pragma once
// The upload sequence, the one place it is written (ARCHITECTURE.md, invariant 3):
// an intent covers the key (catalog::UploadKeys reserves it), the object is stored,
// the image row is written (which clears the intent). If the object cannot be stored,
// or the row cannot be written, the key is queued for deletion and the intent cleared
// in one transaction, so whatever reached storage is deleted by cleanup: no object is
// left that nothing tracks.

#include <span>
#include <string>
#include <string_view>

#include "gallery/catalog/catalog.hpp"
#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"
#include "gallery/db/pool.hpp"
#include "gallery/storage/storage.hpp"

namespace gallery::catalog {

// An upload's object is written and its row committed within seconds; an intent
// older than this belongs to a crashed upload and its key is queued by cleanup.
inline constexpr UnixMicros k_upload_intent_lifetime = 3600 * k_micros_per_second;

// An object stored with an image, before its row (a variant made at upload): its key
// must be one the cleaner deletes with the image's key (common/variant_key.hpp), so
// that queueing the image's key on a failure covers it too.
struct ObjectWithImage {
    std::string key;
    std::string_view bytes;
    std::string_view content_type;
};

// Stores `bytes` as `image`, then each of `with`, and returns its row. `image.storage_key` must be
// covered by an unexpired intent: a key from UploadKeys::take, used once. A connection is borrowed
// from `pool` for each transaction only, never while storage works. `also` runs inside the row's
// transaction (an error from it rolls the row back). Errors: storage_transient or storage_permanent
// when storage refused the object, database when a row could not be written, overloaded when no
// connection was free in time. Either way the key has been queued for deletion (or, if even that
// failed, the error says so and `gallery enqueue --orphans` will find the object).
Result<Image> store_upload(db::ConnectionPool& pool, storage::Storage& storage,
                           const NewImage& image, std::string_view bytes, const Clock& clock,
                           AlsoOnInsert also = {}, std::span<const ObjectWithImage> with = {});

}  // namespace gallery::catalog
