#pragma once
// Backups of the catalog (`gallery backup`): the SQLite database is the only record of
// which objects are images, so gallery snapshots it itself, keeps a retained set, and
// holds back the deletion of every object a retained backup may still need
// (docs/ARCHITECTURE.md, "Backups").
//
// A backup is two files at its destination (backup/destination.hpp: the backup folder
// or the S3 bucket): NAME.db.gz (a consistent snapshot taken with VACUUM INTO while
// serve and cleanup run, gzip-compressed) and NAME.json, its manifest, stored last: a
// backup without a manifest (a run killed half-way) is not a backup, is never listed,
// and its leftovers go on a later run.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gallery/backup/destination.hpp"
#include "gallery/common/error.hpp"
#include "gallery/common/time.hpp"
#include "gallery/config/config.hpp"
#include "gallery/db/connection.hpp"

namespace gallery::backup {

struct Manifest {
    std::string name;  // "gallery-20261206T235701Z"
    UnixMicros taken_at = 0;
    std::int64_t schema_version = 0;
    std::int64_t image_count = 0;
    std::int64_t queue_count = 0;
    std::uint64_t database_bytes = 0;  // the snapshot, uncompressed
    std::uint64_t size_bytes = 0;      // NAME.db.gz
    std::string sha256;                // of NAME.db.gz, lower-case hex
};

// The manifest as NAME.json holds it (and `gallery backup --json` prints it).
nlohmann::json manifest_json(const Manifest& manifest);

// Called while compressing: bytes done, bytes in all.
using Progress = std::function<void(std::uint64_t done, std::uint64_t total)>;

// Snapshots the database behind `connection` (a SQLite file other processes may be
// writing) into `destination` and records it in the database's `backups` table.
// Errors: io for the work folder or the files, storage for a bucket, database for
// the snapshot.
Result<Manifest> take(db::Connection& connection, Destination& destination, UnixMicros now,
                      const Progress& progress = {});

// The complete backups at `destination`, oldest first. A manifest that cannot be
// read is skipped with a warning.
Result<std::vector<Manifest>> list(Destination& destination);

struct Retention {
    int keep = 7;                     // the newest this many
    std::chrono::seconds max_age{0};  // and none older than this (0: no limit)
};

// Removes the backups (files and `backups` rows, ones recorded by --mark included)
// past `retention`; the newest is always kept. Returns the names removed. Also
// removes data files an interrupted run left without a manifest.
Result<std::vector<std::string>> prune(db::Connection& connection, Destination& destination,
                                       const Retention& retention, UnixMicros now);

// Records a backup taken outside gallery (pg_dump, a volume snapshot) at `taken_at`,
// so the guard holds what it may need too.
Result<void> mark(db::Connection& connection, const std::string& name, UnixMicros taken_at);

// The backup named `name` ("latest": the newest) from `destination`, checked against its
// manifest's checksum, decompressed into `target` (a new file; an existing one is
// replaced only with `replace`, and is then kept beside as TARGET.replaced-<time>)
// and checked by SQLite's integrity_check. Errors: not_found, invalid_input (a
// checksum or integrity failure, an existing target), io.
Result<Manifest> restore(Destination& destination, const std::string& name,
                         const std::filesystem::path& target, bool replace, UnixMicros now);

// Restore-safe deletion: the time of the oldest retained backup less 5 minutes (for
// transactions that straddle it and for clock skew between hosts), after which queued
// objects are kept (the cleaner does not claim them); nullopt when none is recorded.
Result<std::optional<UnixMicros>> hold_since(db::Connection& connection);

// hold_since when `config` has backup_guard on, else nullopt (nothing held).
Result<std::optional<UnixMicros>> guard_since(db::Connection& connection,
                                              const config::Config& config);

}  // namespace gallery::backup
