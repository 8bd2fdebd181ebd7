#pragma once
// Writes of many image rows at once, for bringing images over from another system
// (`gallery migrate --from-django`): rows keep the ids and times they had there. Each
// runs inside the caller's write transaction; the caller brings the per-client totals
// up to date with recount_client_totals before it commits.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gallery/catalog/catalog.hpp"
#include "gallery/common/error.hpp"
#include "gallery/db/connection.hpp"

namespace gallery::catalog {

// Images with first_id <= id <= last_id, in id order.
Result<std::vector<Image>> images_between(db::Connection& connection, ImageId first_id,
                                          ImageId last_id);

// Inserts the rows with their own ids and uploaded_at (multi-row statements). Does not
// touch client_totals.
Result<void> insert_images_as_is(db::Connection& connection, std::span<const Image> images);

// Sets every field of the image `image.id` to `image`'s. Does not touch client_totals.
Result<void> overwrite_image(db::Connection& connection, const Image& image);

// Counts each client's images again (clients that differ only in ASCII letter case are
// one) and writes its totals row: the spelling it had, or its first upload's.
Result<void> recount_client_totals(db::Connection& connection,
                                   std::span<const std::string> client_ids);

// The indexes of `images` that only reads use (the sort indexes of 0009; on SQLite
// also the search index of 0010, whose FTS5 table is rebuilt), set aside for a bulk
// load into an empty catalog: maintained row by row they cost the import of 1,000,000
// images more than building them once at the end (BENCHMARKS, issue 36). PostgreSQL's
// trigram GIN indexes stay: built at the end they cost more. Their definitions are
// read from the database itself, so nothing here repeats the migrations.
struct SetAsideIndexes {
    std::vector<std::string> recreate;  // statements, in order
    bool rebuild_search = false;        // SQLite: refill the FTS5 table from `images`
};

// Drops them, inside the caller's write transaction (on PostgreSQL that locks `images`
// until it commits: call it only for a catalog no one uses yet). Returns what
// restore_indexes needs; a rollback brings them back by itself.
Result<SetAsideIndexes> set_aside_read_indexes(db::Connection& connection);

// Builds them again, in the same transaction, before it commits.
Result<void> restore_indexes(db::Connection& connection, const SetAsideIndexes& set_aside);

// Whether the catalog has no image row.
Result<bool> has_no_images(db::Connection& connection);

// New images get ids above `id` (and above every id given so far).
Result<void> reserve_ids_through(db::Connection& connection, ImageId id);

// Storage keys of images in ascending byte order after `after_key`, at most `limit`.
Result<std::vector<std::string>> storage_keys_after(db::Connection& connection,
                                                    const std::string& after_key,
                                                    std::size_t limit);

// The lowest and the highest storage key of any image; nullopt without images.
Result<std::optional<std::pair<std::string, std::string>>> storage_key_range(
    db::Connection& connection);

}  // namespace gallery::catalog
