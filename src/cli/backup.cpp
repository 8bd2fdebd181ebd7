// gallery backup: snapshot the catalog, list the backups, restore one, or record one
// taken elsewhere (docs/ARCHITECTURE.md, "Backups").

#include <iostream>

#include "cli/commands.hpp"
#include "gallery/backup/backup.hpp"
#include "gallery/catalog/catalog.hpp"
#include "gallery/cleanup/orphan_sweep.hpp"
#include "gallery/common/text.hpp"
#include "gallery/db/migrator.hpp"
#include "gallery/queue/reconcile.hpp"
#include "gallery/storage/factory.hpp"

namespace gallery::cli {
namespace {

struct BackupOptions {
    bool list = false;
    std::optional<std::string> restore;
    std::optional<std::string> to;
    bool force = false;
    std::optional<std::string> mark;
    bool json = false;
};

Result<void> run_list(backup::Destination& destination, const BackupOptions& options) {
    auto backups = backup::list(destination);
    if (!backups) return std::unexpected(backups.error());
    if (options.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& m : *backups) out.push_back(backup::manifest_json(m));
        print_json({{"location", destination.location()}, {"backups", out}});
        return {};
    }
    if (backups->empty()) {
        std::cout << "no backups in " << printable(destination.location()) << "\n";
        return {};
    }
    for (const auto& m : *backups) {
        std::cout << m.name << "  " << to_iso8601(m.taken_at) << "  " << m.image_count
                  << " images, " << m.queue_count << " queued, " << format_bytes(m.size_bytes)
                  << "\n";
    }
    return {};
}

// The images of the restored catalog whose object storage does not have: how many,
// and the first k_missing_listed keys (memory stays flat for any catalog).
constexpr std::size_t k_missing_listed = 1000;

struct Missing {
    std::size_t count = 0;
    std::vector<std::string> first_keys;
};

Result<Missing> missing_objects(db::Connection& restored, storage::Storage& storage) {
    Missing missing;
    catalog::ImageId after = 0;
    for (;;) {
        auto page = catalog::image_keys_after(restored, after, 500);
        if (!page) return std::unexpected(page.error());
        if (page->empty()) return missing;
        for (const auto& image : *page) {
            auto info = storage.head(image.storage_key);
            if (!info) return std::unexpected(info.error());
            if (info->has_value()) continue;
            ++missing.count;
            if (missing.first_keys.size() < k_missing_listed)
                missing.first_keys.push_back(image.storage_key);
        }
        after = page->back().id;
    }
}

// Objects under the images' prefix that no image of the restored catalog names (an
// upload after the backup, an orphan): listed only, never queued here.
Result<cleanup::SweepReport> unreferenced_objects(db::Connection& restored,
                                                  storage::Storage& storage,
                                                  std::vector<std::string>& sample) {
    cleanup::SweepOptions sweep;
    sweep.prefix = std::string(config::media_prefix);
    sweep.older_than = std::chrono::seconds(0);
    sweep.dry_run = true;
    auto report = cleanup::sweep_orphans(restored, storage, sweep, system_clock(),
                                         [&](const storage::ObjectInfo& orphan) {
                                             if (sample.size() < 20) sample.push_back(orphan.key);
                                         });
    if (report.stopped_by) return std::unexpected(*report.stopped_by);
    return report;
}

Result<void> run_restore(const config::Config& config, backup::Destination& destination,
                         const BackupOptions& options) {
    if (!config.db_url.empty()) {
        return fail(ErrorKind::invalid_input,
                    "gallery backup --restore restores SQLite backups; restore a PostgreSQL "
                    "database with pg_restore or its point-in-time recovery");
    }
    const std::filesystem::path target =
        options.to ? std::filesystem::path(*options.to) : config.db_path;
    auto restored =
        backup::restore(destination, *options.restore, target, options.force, now_micros());
    if (!restored) return std::unexpected(restored.error());
    // A backup from an older binary is brought to the current schema here.
    db::Connection connection({.path = target});
    if (auto migrated = db::migrate(connection, db::embedded_migrations(), now_micros()); !migrated)
        return std::unexpected(migrated.error());
    if (auto dropped = queue::drop_all_intents(connection); !dropped)
        return std::unexpected(dropped.error());
    // The reconcile report: what the restored catalog names that storage lacks.
    auto storage = storage::open_storage(config);
    auto missing = missing_objects(connection, *storage);
    if (!missing) return std::unexpected(missing.error());
    std::vector<std::string> unreferenced_sample;
    auto unreferenced = unreferenced_objects(connection, *storage, unreferenced_sample);
    if (!unreferenced) return std::unexpected(unreferenced.error());
    if (options.json) {
        nlohmann::json out = backup::manifest_json(*restored);
        out["restored_to"] = target.string();
        out["missing_count"] = missing->count;
        out["missing"] = missing->first_keys;  // the first 1000
        out["unreferenced_count"] = unreferenced->orphans;
        out["unreferenced_bytes"] = unreferenced->orphan_bytes;
        out["unreferenced_sample"] = unreferenced_sample;
        print_json(out);
        return {};
    }
    std::cout << "Restored " << restored->name << " (" << to_iso8601(restored->taken_at) << ", "
              << restored->image_count << " images) into " << printable(target.string()) << "\n"
              << "Checked every image's object: " << missing->count << " missing"
              << (missing->count == 0 ? ".\n" : ":\n");
    for (std::size_t i = 0; i < missing->first_keys.size() && i < 20; ++i)
        std::cout << "  " << printable(missing->first_keys[i]) << "\n";
    if (missing->count > 20) std::cout << "  ... and " << missing->count - 20 << " more\n";
    std::cout << "Objects under " << config::media_prefix
              << " that no image here names: " << unreferenced->orphans << " ("
              << format_bytes(unreferenced->orphan_bytes) << ")"
              << (unreferenced->orphans == 0 ? ".\n" : ", e.g.:\n");
    for (const std::string& key : unreferenced_sample) std::cout << "  " << printable(key) << "\n";
    if (unreferenced->orphans > 0) {
        std::cout << "They were uploaded after the backup, or are orphans: `gallery enqueue "
                     "--orphans` queues those older than its --older-than guard. Nothing was "
                     "queued or deleted.\n";
    }
    return {};
}

Result<void> run_backup(const Globals& globals, const BackupOptions& options) {
    const config::Config config = load_config(globals);
    const auto destination = backup::open_destination(config);
    if (options.list) return run_list(*destination, options);
    if (options.restore) return run_restore(config, *destination, options);
    db::Connection connection = open_database(config);
    if (options.mark) {
        if (auto marked = backup::mark(connection, *options.mark, now_micros()); !marked)
            return std::unexpected(marked.error());
        auto pruned = backup::prune(connection, *destination,
                                    {config.backup_keep, config.backup_max_age}, now_micros());
        if (!pruned) return std::unexpected(pruned.error());
        if (options.json)
            print_json({{"marked", *options.mark}, {"pruned", *pruned}});
        else
            std::cout << "recorded the backup " << printable(*options.mark)
                      << ": the cleaner keeps what it may need while it is retained\n";
        return {};
    }
    const bool progress = stderr_is_terminal() && !options.json;
    auto taken = backup::take(
        connection, *destination, now_micros(), [&](std::uint64_t done, std::uint64_t total) {
            if (progress)
                std::cerr << "\rcompressing " << done * 100 / std::max<std::uint64_t>(total, 1)
                          << "%" << std::flush;
        });
    if (progress) std::cerr << "\n";
    if (!taken) return std::unexpected(taken.error());
    auto pruned = backup::prune(connection, *destination,
                                {config.backup_keep, config.backup_max_age}, now_micros());
    if (!pruned) return std::unexpected(pruned.error());
    if (options.json) {
        nlohmann::json out = backup::manifest_json(*taken);
        out["location"] = destination->location();
        out["pruned"] = *pruned;
        print_json(out);
        return {};
    }
    std::cout << "Backup " << taken->name << ": " << taken->image_count << " images, "
              << taken->queue_count << " queued, " << format_bytes(taken->size_bytes) << " ("
              << format_bytes(taken->database_bytes) << " uncompressed) in "
              << printable(destination->location()) << "\n";
    for (const std::string& name : *pruned) std::cout << "removed " << name << " (retention)\n";
    return {};
}

}  // namespace

void add_backup_command(CLI::App& app, Globals& globals, Command& selected) {
    auto options = std::make_shared<BackupOptions>();
    CLI::App* command = app.add_subcommand(
        "backup",
        "Snapshot the database into the backup folder or bucket, list, restore or record backups");
    command->footer(
        "Examples:\n  gallery backup                      # snapshot now, then apply retention\n"
        "  gallery backup --list\n"
        "  gallery backup --restore latest     # recreate a lost database at its configured path\n"
        "  gallery backup --restore gallery-20261206T120000Z --to /tmp/check.db\n"
        "  gallery backup --mark nightly-pg-dump   # PostgreSQL: record a backup taken elsewhere");
    add_setting_flag(*command, globals, "--backup-dir", "backup_dir", "Folder of the backups");
    command->add_flag("--list", options->list, "List the backups, oldest first");
    command->add_option("--restore", options->restore,
                        "Restore this backup (a name from --list, or latest)");
    command->add_option("--to", options->to,
                        "With --restore: the database file to create (default: the configured db)");
    command->add_flag("--force", options->force,
                      "With --restore: replace an existing database (stop gallery first; the old "
                      "file is kept beside)");
    command->add_option("--mark", options->mark,
                        "Record a backup taken outside gallery under this name, taken now");
    command->add_flag("--json", options->json, "Print one JSON object");
    command->callback([&globals, &selected, options] {
        const int modes =
            (options->list ? 1 : 0) + (options->restore ? 1 : 0) + (options->mark ? 1 : 0);
        if (modes > 1) throw CLI::ValidationError("--list, --restore and --mark", "choose one");
        if ((options->to || options->force) && !options->restore)
            throw CLI::ValidationError("--to/--force", "only make sense with --restore");
        selected = [&globals, options] { return run_backup(globals, *options); };
    });
}

}  // namespace gallery::cli
