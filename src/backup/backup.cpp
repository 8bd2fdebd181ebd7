#include "gallery/backup/backup.hpp"

#include <openssl/evp.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "gallery/common/json_time.hpp"
#include "gallery/common/log.hpp"
#include "gallery/common/sha256.hpp"
#include "gallery/common/text.hpp"
#include "gallery/db/statement.hpp"
#include "gallery/db/transaction.hpp"

namespace gallery::backup {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_data_suffix = ".db.gz";
constexpr std::string_view k_manifest_suffix = ".json";
constexpr std::string_view k_partial_suffix = ".partial";
constexpr std::size_t k_chunk = 256 * 1024;

struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
};
struct GzCloser {
    void operator()(gzFile_s* file) const { gzclose(file); }
};

std::string backup_name(UnixMicros now) {
    return std::string(k_backup_file_prefix) + format_utc(now, "%Y%m%dT%H%M%SZ");
}

std::string data_file(const std::string& name) {
    return name + std::string(k_data_suffix);
}
std::string manifest_file(const std::string& name) {
    return name + std::string(k_manifest_suffix);
}

void sync_file(const fs::path& path) {
    if (std::FILE* file = std::fopen(path.c_str(), "rb")) {
        ::fsync(::fileno(file));
        std::fclose(file);
    }
}

// Removes what a killed run left: its files, and the journal SQLite keeps beside the
// snapshot while VACUUM INTO writes it (NAME.db.partial-journal), all contain .partial.
void remove_leftovers(const fs::path& folder) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        const std::string file = entry.path().filename().string();
        if (file.starts_with(k_backup_file_prefix) &&
            file.find(k_partial_suffix) != std::string::npos)
            fs::remove(entry.path(), ec);
    }
}

// gzip `from` into `to`, hashing what is written; returns the compressed size.
Result<std::uint64_t> compress(const fs::path& from, const fs::path& to, Sha256& hash,
                               const Progress& progress) {
    std::unique_ptr<std::FILE, FileCloser> in(std::fopen(from.c_str(), "rb"));
    if (!in) return fail(ErrorKind::io, "cannot read the snapshot " + from.string());
    const std::uint64_t total = fs::file_size(from);
    {
        std::unique_ptr<gzFile_s, GzCloser> out(gzopen(to.c_str(), "wb6"));
        if (!out) return fail(ErrorKind::io, "cannot write " + to.string());
        std::string buffer(k_chunk, '\0');
        std::uint64_t done = 0;
        while (const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), in.get())) {
            if (gzwrite(out.get(), buffer.data(), static_cast<unsigned>(got)) !=
                static_cast<int>(got)) {
                return fail(ErrorKind::io, "cannot write " + to.string() + " (disk full?)");
            }
            done += got;
            if (progress) progress(done, total);
        }
        if (gzclose(out.release()) != Z_OK)
            return fail(ErrorKind::io, "cannot finish " + to.string() + " (disk full?)");
    }
    std::unique_ptr<std::FILE, FileCloser> written(std::fopen(to.c_str(), "rb"));
    if (!written) return fail(ErrorKind::io, "cannot read back " + to.string());
    std::string buffer(k_chunk, '\0');
    std::uint64_t size = 0;
    while (const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), written.get())) {
        hash.add(std::string_view(buffer.data(), got));
        size += got;
    }
    return size;
}

std::optional<Manifest> parse_manifest(const std::string& text) {
    const auto parsed = nlohmann::json::parse(text, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
    try {
        return Manifest{parsed.at("name").get<std::string>(),
                        parsed.at("taken_at_micros").get<UnixMicros>(),
                        parsed.at("schema_version").get<std::int64_t>(),
                        parsed.at("image_count").get<std::int64_t>(),
                        parsed.at("queue_count").get<std::int64_t>(),
                        parsed.at("database_bytes").get<std::uint64_t>(),
                        parsed.at("size_bytes").get<std::uint64_t>(),
                        parsed.at("sha256").get<std::string>()};
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

// The snapshot's own counts, read from it (not from the live database, which has
// moved on since).
Result<void> describe(const fs::path& snapshot, Manifest& manifest) {
    return db::read("backup: read the snapshot", [&] {
        db::Connection copy({.path = snapshot, .foreign_read_only = true});
        manifest.schema_version =
            db::query_int64(copy, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        manifest.image_count = db::query_int64(copy, "SELECT COUNT(*) FROM images");
        manifest.queue_count = db::query_int64(copy, "SELECT COUNT(*) FROM deletion_queue");
    });
}

}  // namespace

nlohmann::json manifest_json(const Manifest& m) {
    return {{"name", m.name},
            {"taken_at", to_iso8601(m.taken_at)},
            {"taken_at_micros", m.taken_at},
            {"schema_version", m.schema_version},
            {"image_count", m.image_count},
            {"queue_count", m.queue_count},
            {"database_bytes", m.database_bytes},
            {"size_bytes", m.size_bytes},
            {"sha256", m.sha256},
            {"file", m.name + std::string(k_data_suffix)}};
}

Result<Manifest> take(db::Connection& connection, Destination& destination, UnixMicros now,
                      const Progress& progress) {
    if (connection.engine() != db::Engine::sqlite) {
        return fail(ErrorKind::invalid_input,
                    "gallery backup snapshots SQLite databases; on PostgreSQL use pg_dump or "
                    "point-in-time recovery, and record each backup with `gallery backup --mark`");
    }
    const fs::path& work = destination.work_folder();
    std::error_code ec;
    fs::create_directories(work, ec);
    if (ec) return fail(ErrorKind::io, "cannot create the backup folder " + work.string());
    remove_leftovers(work);
    Manifest manifest;
    manifest.name = backup_name(now);
    manifest.taken_at = now;
    auto existing = destination.file_names();
    if (!existing) return std::unexpected(existing.error());
    if (std::ranges::find(*existing, manifest_file(manifest.name)) != existing->end()) {
        return fail(ErrorKind::invalid_input,
                    "a backup named " + manifest.name + " exists already; try again in a second");
    }
    const fs::path snapshot = work / (manifest.name + ".db" + std::string(k_partial_suffix));
    const fs::path compressed = work / (data_file(manifest.name) + std::string(k_partial_suffix));
    // VACUUM INTO reads one consistent snapshot (a read transaction: in WAL mode the
    // writers go on) and writes a compact copy; never a copy of the live file.
    auto vacuumed = db::read("backup: snapshot", [&] {
        db::Statement vacuum(connection, "VACUUM INTO ?1");
        vacuum.bind(1, snapshot.string());
        vacuum.step();
    });
    if (!vacuumed) return std::unexpected(vacuumed.error());
    const auto cleanup_partials = [&] {
        fs::remove(snapshot, ec);
        fs::remove(compressed, ec);
    };
    if (auto described = describe(snapshot, manifest); !described) {
        cleanup_partials();
        return std::unexpected(described.error());
    }
    manifest.database_bytes = fs::file_size(snapshot, ec);
    Sha256 hash;
    auto size = compress(snapshot, compressed, hash, progress);
    fs::remove(snapshot, ec);
    if (!size) {
        cleanup_partials();
        return std::unexpected(size.error());
    }
    manifest.size_bytes = *size;
    manifest.sha256 = hash.hex();
    sync_file(compressed);
    if (auto stored = destination.store(compressed, data_file(manifest.name)); !stored)
        return std::unexpected(stored.error());
    // The manifest is stored last: it is what makes the backup exist.
    const fs::path manifest_partial =
        work / (manifest_file(manifest.name) + std::string(k_partial_suffix));
    {
        std::ofstream out(manifest_partial);
        out << manifest_json(manifest).dump(2) << "\n";
        if (!out) {
            fs::remove(manifest_partial, ec);
            return fail(ErrorKind::io, "cannot write " + manifest_partial.string());
        }
    }
    sync_file(manifest_partial);
    if (auto stored = destination.store(manifest_partial, manifest_file(manifest.name)); !stored)
        return std::unexpected(stored.error());
    auto recorded = db::write(connection, "backup: record", [&] {
        db::Statement insert(connection,
                             "INSERT INTO backups (name, taken_at, location, size_bytes, sha256,"
                             " image_count, queue_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        insert.bind(1, manifest.name);
        insert.bind(2, manifest.taken_at);
        insert.bind(3, destination.location_of(data_file(manifest.name)));
        insert.bind(4, static_cast<std::int64_t>(manifest.size_bytes));
        insert.bind(5, manifest.sha256);
        insert.bind(6, manifest.image_count);
        insert.bind(7, manifest.queue_count);
        insert.execute();
    });
    if (!recorded) return std::unexpected(recorded.error());
    return manifest;
}

Result<std::vector<Manifest>> list(Destination& destination) {
    auto names = destination.file_names();
    if (!names) return std::unexpected(names.error());
    std::vector<Manifest> found;
    for (const std::string& file : *names) {
        if (!file.ends_with(k_manifest_suffix)) continue;
        auto text = destination.read(file);
        if (!text && text.error().kind == ErrorKind::not_found) continue;  // removed meanwhile
        if (!text) return std::unexpected(text.error());
        auto manifest = parse_manifest(*text);
        if (!manifest) {
            log::warn("backup: the manifest " + destination.location_of(file) +
                      " cannot be read; skipped");
            continue;
        }
        found.push_back(std::move(*manifest));
    }
    std::ranges::sort(found, {}, &Manifest::taken_at);
    return found;
}

namespace {

// Data files whose manifest was never stored (a run killed between the two) and
// that are older than the newest complete backup: no run still making them.
Result<void> remove_unfinished(Destination& destination, const std::vector<Manifest>& complete) {
    if (complete.empty()) return {};
    auto names = destination.file_names();
    if (!names) return std::unexpected(names.error());
    const std::string& newest = complete.back().name;
    for (const std::string& file : *names) {
        if (!file.ends_with(k_data_suffix)) continue;
        const std::string name = file.substr(0, file.size() - k_data_suffix.size());
        if (name >= newest || std::ranges::find(complete, name, &Manifest::name) != complete.end())
            continue;
        if (auto removed = destination.remove(file); !removed) return removed;
        log::info("backup: removed " + destination.location_of(file) +
                  ", left without a manifest by an interrupted backup");
    }
    return {};
}

}  // namespace

Result<std::vector<std::string>> prune(db::Connection& connection, Destination& destination,
                                       const Retention& retention, UnixMicros now) {
    // Every backup the guard knows of (taken here or marked), newest first.
    auto recorded = db::read("backup: list recorded", [&] {
        db::Statement query(connection,
                            "SELECT name, taken_at FROM backups ORDER BY taken_at DESC");
        std::vector<std::pair<std::string, UnixMicros>> rows;
        while (query.step()) rows.emplace_back(query.text(0), query.int64(1));
        return rows;
    });
    if (!recorded) return std::unexpected(recorded.error());
    auto files = list(destination);
    if (!files) return std::unexpected(files.error());
    if (auto tidied = remove_unfinished(destination, *files); !tidied)
        return std::unexpected(tidied.error());
    std::map<std::string, UnixMicros> all(recorded->begin(), recorded->end());
    for (const Manifest& manifest : *files) all.emplace(manifest.name, manifest.taken_at);
    std::vector<std::pair<UnixMicros, std::string>> newest_first;
    for (const auto& [name, taken_at] : all) newest_first.emplace_back(taken_at, name);
    std::ranges::sort(newest_first, std::greater<>());
    std::vector<std::string> removed;
    const UnixMicros max_age = retention.max_age.count() * k_micros_per_second;
    for (std::size_t i = 1; i < newest_first.size(); ++i) {
        const auto& [taken_at, name] = newest_first[i];
        const bool too_many = i >= static_cast<std::size_t>(retention.keep);
        const bool too_old = max_age > 0 && now - taken_at > max_age;
        if (!too_many && !too_old) continue;
        // The files first: a row without its files would hold objects for nothing, but
        // files without a row would be a backup the guard no longer protects. The
        // manifest before the data: a backup is gone once its manifest is.
        for (const std::string& file : {manifest_file(name), data_file(name)}) {
            if (auto gone = destination.remove(file); !gone) return std::unexpected(gone.error());
        }
        auto forgotten = db::write(connection, "backup: forget", [&] {
            db::Statement remove(connection, "DELETE FROM backups WHERE name = ?1");
            remove.bind(1, name);
            remove.execute();
        });
        if (!forgotten) return std::unexpected(forgotten.error());
        removed.push_back(name);
    }
    return removed;
}

Result<void> mark(db::Connection& connection, const std::string& name, UnixMicros taken_at) {
    return db::write(connection, "backup: mark", [&] {
        db::Statement insert(connection,
                             "INSERT INTO backups (name, taken_at, location) VALUES (?1, ?2, '')");
        insert.bind(1, name);
        insert.bind(2, taken_at);
        insert.execute();
    });
}

Result<Manifest> restore(Destination& destination, const std::string& name, const fs::path& target,
                         bool replace, UnixMicros now) {
    auto backups = list(destination);
    if (!backups) return std::unexpected(backups.error());
    const auto chosen = name == "latest"
                            ? (backups->empty() ? backups->end() : std::prev(backups->end()))
                            : std::ranges::find(*backups, name, &Manifest::name);
    if (chosen == backups->end()) {
        return fail(ErrorKind::not_found, "no backup named " + name + " in " +
                                              destination.location() +
                                              " (gallery backup --list shows them)");
    }
    const Manifest manifest = *chosen;
    std::error_code ec;
    if (fs::exists(target, ec) && !replace) {
        return fail(ErrorKind::invalid_input,
                    target.string() +
                        " exists: restore into a new file (--to PATH), or stop "
                        "gallery and add --force to replace it (it is kept beside)");
    }
    // The data file, fetched when the destination is a bucket; removed on every return.
    const fs::path& work = destination.work_folder();
    fs::create_directories(work, ec);
    const fs::path scratch =
        work / (data_file(manifest.name) + ".fetched" + std::string(k_partial_suffix));
    auto local = destination.local_copy(data_file(manifest.name), scratch);
    if (!local) return std::unexpected(local.error());
    const fs::path data = *local;
    struct RemoveScratch {
        const fs::path& path;
        ~RemoveScratch() {
            std::error_code ignored;
            fs::remove(path, ignored);
        }
    } remove_scratch{scratch};
    // The checksum of the file as stored, before anything reads it as a database.
    {
        auto digest = sha256_file_hex(data);
        if (!digest) return std::unexpected(digest.error());
        if (*digest != manifest.sha256) {
            return fail(ErrorKind::invalid_input, "the backup " + manifest.name +
                                                      " is damaged: its checksum does not "
                                                      "match its manifest; restore another one");
        }
    }
    const fs::path partial = target.string() + std::string(k_partial_suffix);
    fs::create_directories(target.parent_path().empty() ? fs::path(".") : target.parent_path(), ec);
    {
        std::unique_ptr<gzFile_s, GzCloser> in(gzopen(data.c_str(), "rb"));
        std::unique_ptr<std::FILE, FileCloser> out(std::fopen(partial.c_str(), "wb"));
        if (!in || !out) return fail(ErrorKind::io, "cannot write " + partial.string());
        std::string buffer(k_chunk, '\0');
        int got = 0;
        while ((got = gzread(in.get(), buffer.data(), static_cast<unsigned>(buffer.size()))) > 0) {
            if (std::fwrite(buffer.data(), 1, static_cast<std::size_t>(got), out.get()) !=
                static_cast<std::size_t>(got)) {
                fs::remove(partial, ec);
                return fail(ErrorKind::io, "cannot write " + partial.string() + " (disk full?)");
            }
        }
        if (got < 0) {
            fs::remove(partial, ec);
            return fail(ErrorKind::invalid_input,
                        "the backup " + manifest.name + " cannot be decompressed: it is damaged");
        }
    }
    auto intact = db::read("backup: check the restored copy", [&] {
        db::Connection copy({.path = partial, .foreign_read_only = true});
        db::Statement check(copy, "PRAGMA integrity_check");
        check.step();
        return check.text(0);
    });
    if (!intact || *intact != "ok") {
        fs::remove(partial, ec);
        return fail(ErrorKind::invalid_input,
                    "the backup " + manifest.name + " does not hold a sound database (" +
                        (intact ? *intact : intact.error().message) + ")");
    }
    if (fs::exists(target, ec)) {
        // --force: the replaced database and its WAL stay beside, never deleted here.
        const std::string aside = ".replaced-" + std::to_string(now / k_micros_per_second);
        for (const std::string suffix : {"", "-wal", "-shm"}) {
            const fs::path file = target.string() + suffix;
            if (fs::exists(file, ec)) fs::rename(file, target.string() + aside + suffix, ec);
        }
    }
    sync_file(partial);
    fs::rename(partial, target, ec);
    if (ec) {
        fs::remove(partial, ec);
        return fail(ErrorKind::io, "cannot rename the restored copy to " + target.string());
    }
    return manifest;
}

Result<std::optional<UnixMicros>> hold_since(db::Connection& connection) {
    // A row's queued_at is stamped before its transaction commits, on its host's clock:
    // a delete that began before a backup's time may commit after the snapshot (the
    // backup then holds the image), and hosts' clocks differ. The hold starts this much
    // earlier so such rows are held too.
    constexpr UnixMicros k_margin = 300 * k_micros_per_second;
    return db::read("backup: oldest retained", [&]() -> std::optional<UnixMicros> {
        db::Statement oldest(connection, "SELECT MIN(taken_at) FROM backups");
        if (!oldest.step() || oldest.is_null(0)) return std::nullopt;
        return oldest.int64(0) - k_margin;
    });
}

Result<std::optional<UnixMicros>> guard_since(db::Connection& connection,
                                              const config::Config& config) {
    if (!config.backup_guard) return std::optional<UnixMicros>{};
    return hold_since(connection);
}

}  // namespace gallery::backup
