#pragma once
// Bringing an original deployment over (`gallery migrate --from-django SOURCE`): its
// images keep their ids, keys, fields and times; its pending deletions join the
// queue. See docs/ARCHITECTURE.md, "Importing an original deployment".
//
// One run is one write transaction on gallery's database, reading the source as one
// snapshot: it is written whole or not at all. A later run of the same source writes
// only what changed there since (new images and pending rows, fields edited there,
// images deleted there) and says so; what gallery changed or deleted since is never
// overwritten or brought back.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"
#include "gallery/db/connection.hpp"
#include "gallery/storage/storage.hpp"

namespace gallery::original {

// Called after each batch: "images" or "pending deletions", rows done, rows in all.
using Progress = std::function<void(std::string_view phase, std::int64_t done, std::int64_t total)>;

struct ImportOptions {
    bool dry_run = false;  // do everything, then roll back
    Progress progress{};
    // gallery's max_attempts: carried-over rows with as many attempts go dead on the
    // next cleanup (counted apart, so the summary can say so).
    int max_attempts = 3;
};

struct ImportConflict {
    std::string row;  // "image 42", "pending deletion 7"
    std::string reason;
};

struct ImportReport {
    std::string source;     // display name (no password)
    std::string migration;  // the source's newest migration of `assets`
    bool has_pending_table = false;
    std::int64_t source_images = 0;
    std::int64_t source_pending = 0;

    std::int64_t images_imported = 0;      // new here
    std::int64_t images_unchanged = 0;     // imported before, same content
    std::int64_t images_updated = 0;       // edited in the original since the last import
    std::int64_t images_removed = 0;       // deleted in the original since: deleted here too
    std::int64_t images_deleted_here = 0;  // deleted in gallery since: not brought back

    std::int64_t pending_queued = 0;
    std::int64_t pending_already_queued = 0;
    std::int64_t pending_still_referenced = 0;  // a live image uses the key: not queued
    std::int64_t pending_already_deleted = 0;   // a cleaner here deleted it already
    std::int64_t pending_at_max_attempts = 0;   // of pending_queued: dead on the next cleanup

    // Groups of client ids of the source that differ only in ASCII letter case: one
    // client in gallery. Each group sorted, groups sorted.
    std::vector<std::vector<std::string>> merged_clients;

    // Rows that cannot be imported as they are: then nothing of the run is written.
    std::vector<ImportConflict> conflicts;  // the first k_listed_conflicts
    std::int64_t conflict_count = 0;

    std::int64_t next_id_above = 0;  // new uploads get ids above this
    bool written = false;            // committed (not a dry run, no conflicts)
};

inline constexpr std::size_t k_listed_conflicts = 50;

// Imports `source` (opened with ConnectionOptions::foreign_read_only) into `target`
// (gallery's migrated database). Conflicts are not an error: the report lists them
// and `written` is false. Errors: invalid_input for a source that is not the
// original's or is at a migration before 0004; database errors otherwise.
Result<ImportReport> import_original(db::Connection& source, db::Connection& target,
                                     const ImportOptions& options, UnixMicros now);

struct StorageCheck {
    std::int64_t checked = 0;
    std::int64_t missing_count = 0;
    std::vector<std::string> missing;  // the first k_listed_missing
    std::int64_t listed_objects = 0;   // objects the storage listed to find them
};

inline constexpr std::size_t k_listed_missing = 100;

// Checks that the object of every image in `target` exists in `storage`: the keys in
// byte order, merged with the storage's listing of their common prefix (pages of
// 1,000), not one request per key.
Result<StorageCheck> verify_storage(db::Connection& target, storage::Storage& storage,
                                    const Progress& progress);

}  // namespace gallery::original
