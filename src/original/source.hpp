#pragma once
// Reading the original deployment's database (docs/ARCHITECTURE.md, "Importing an
// original deployment"): its Django tables assets_image and assets_pendingfiledeletion,
// on PostgreSQL (production) or SQLite (development copies). The SQL here is the
// original's dialect, written per engine: these are another application's tables.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"
#include "gallery/db/connection.hpp"

namespace gallery::original {

struct SourceSchema {
    std::string migration;  // the newest applied migration of the app, "0009_pendingfiledeletion"
    int migration_number = 0;  // 9
    bool has_pending_table = false;
    std::int64_t image_count = 0;
    std::int64_t pending_count = 0;
    // The highest id the original's sequence gave (deleted images included), if known.
    std::optional<std::int64_t> highest_id_given;
};

// The first migration whose tables the import can read (client_id arrived in 0004).
inline constexpr int k_first_importable_migration = 4;
// The migration that created assets_pendingfiledeletion.
inline constexpr int k_pending_migration = 9;

// Checks that `source` is the original's database at an importable migration: an
// ErrorKind::invalid_input with a sentence naming what is wrong (not the original's,
// a migration below 0004) otherwise.
Result<SourceSchema> inspect(db::Connection& source);

// Call inside the read snapshot the import holds on `source`: on PostgreSQL the pages
// (images_after, pending_after) walk the id index, not the whole table. A freshly
// restored original has no planner statistics, and the planner then chose a bitmap
// scan of every row above the page's first id and a sort, for each page (seen with
// auto_explain). The 1,000,000-image PostgreSQL import took 211.7 s before and 192.3 s
// after (BENCHMARKS). Only the snapshot's transaction is affected (SET LOCAL). Nothing
// on SQLite, whose plan is the index walk already.
Result<void> prefer_index_walks(db::Connection& source);

struct OriginalImage {
    std::int64_t id = 0;
    std::string filename;
    std::string storage_key;  // the `image` column
    std::string original_filename;
    std::string client_id;
    std::optional<std::string> name;
    std::optional<std::string> description;
    std::int64_t size = 0;
    UnixMicros uploaded_at = 0;
};

// Images with ids above `after_id` in id order, at most `limit`.
Result<std::vector<OriginalImage>> images_after(db::Connection& source, std::int64_t after_id,
                                                std::size_t limit);

struct OriginalPending {
    std::int64_t id = 0;
    std::string file_path;
    std::optional<std::string> client_id;
    UnixMicros queued_at = 0;
    std::int64_t attempts = 0;
    std::optional<std::string> last_error;
};

Result<std::vector<OriginalPending>> pending_after(db::Connection& source, std::int64_t after_id,
                                                   std::size_t limit);

}  // namespace gallery::original
