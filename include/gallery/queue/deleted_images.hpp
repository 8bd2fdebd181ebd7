#pragma once
// What the queue does for deletes of images: queue their objects, keep a copy of each
// image for the restore window, give that copy back to a restore, end the window on
// purpose (purge), and list what is restorable. Callers say which images by a typed
// selection; every statement on deletion_queue stays here (ARCHITECTURE.md,
// "The deletion queue: invariants", 1 and 9).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"
#include "gallery/db/connection.hpp"

namespace gallery::queue {

// Which images: those among `image_ids`, every image of one client, or all of them.
struct ImageSelection {
    enum class Scope { images, client, all };
    Scope scope = Scope::images;
    std::vector<std::int64_t> image_ids;  // Scope::images
    std::string client_id;                // Scope::client (ASCII case folded, as images')

    static ImageSelection of_images(std::vector<std::int64_t> ids) {
        return {Scope::images, std::move(ids), {}};
    }
    static ImageSelection of_client(std::string client_id) {
        return {Scope::client, {}, std::move(client_id)};
    }
};

// The copy of an image that a restorable row keeps: the image row's columns.
struct ImageCopy {
    std::int64_t id = 0;
    std::string filename;
    std::string storage_key;
    std::string original_filename;
    std::string client_id;
    std::optional<std::string> name;
    std::optional<std::string> description;
    std::uint64_t size = 0;
    std::string content_type;
    UnixMicros uploaded_at = 0;
};

// Queues the objects of the selected image rows, which the caller removes next in the
// same transaction (run it inside the caller's db::write, before the rows go). With
// `restorable_until`, the rows are queued restorable until then, each keeping its
// image's copy (take_back); without, due at `now`. Returns how many keys were newly
// queued (a key already pending counts once).
Result<std::size_t> enqueue_images(db::Connection& connection, const ImageSelection& selection,
                                   UnixMicros now,
                                   std::optional<UnixMicros> restorable_until = std::nullopt);

// Takes the selected restorable rows out of the queue and returns their images' copies,
// for the caller to insert again in the same transaction: a row is either restored or,
// once a claim has made it pending, deleted; never both (invariant 9). A row whose
// image id or key a live image holds (it cannot happen through the API: ids are never
// given twice and keys are random) stays queued rather than fail the whole restore.
Result<std::vector<ImageCopy>> take_back(db::Connection& connection,
                                         const ImageSelection& selection);

// Ends the restore window of the selected restorable rows now, on purpose: they become
// pending and due at `now` (the next cleanup deletes their objects), lose the copy of
// their image (a restore refuses them from here on), and keep `now` as purged_at, which
// their deletion receipts carry. Returns the purged image ids, ascending; an id that
// is not restorable is not among them.
Result<std::vector<std::int64_t>> purge_restorable(db::Connection& connection,
                                                   const ImageSelection& selection, UnixMicros now);

struct RestorableImage {
    ImageCopy image;
    UnixMicros deleted_at = 0;
    UnixMicros window_end = 0;  // restorable until then, and after it until a claim
};

struct RestorableQuery {
    std::optional<std::string> client_id;  // case-insensitive exact match
    std::optional<std::string> search;     // substring of name, description, filenames
    std::int64_t page = 1;                 // 1-based
    std::int64_t page_size = 50;
};

struct RestorablePage {
    std::vector<RestorableImage> images;  // most recently deleted first
    std::int64_t total_count = 0;
};

// The deleted images a restore can still bring back (the admin's "Recently deleted").
Result<RestorablePage> list_restorable(db::Connection& connection, const RestorableQuery& query);

// The storage key of image `image_id` while it is restorable; nullopt otherwise.
Result<std::optional<std::string>> restorable_key(db::Connection& connection,
                                                  std::int64_t image_id);

}  // namespace gallery::queue
