#include "cli/migrate_from_django.hpp"

#include <filesystem>
#include <iostream>

#include "cli/common.hpp"
#include "gallery/common/text.hpp"
#include "gallery/db/migrator.hpp"
#include "gallery/original/import.hpp"
#include "gallery/storage/factory.hpp"

namespace gallery::cli {
namespace {

// How to open SOURCE read-only: a URI, `env`, or the path of a Django SQLite file.
Result<db::ConnectionOptions> source_options(const std::string& source) {
    db::ConnectionOptions options;
    options.foreign_read_only = true;
    if (source == "env") {
        config::Sources sources;
        sources.environment = config::process_environment;
        const auto url = config::original_postgres_url(sources);
        if (!url) {
            return fail(ErrorKind::invalid_input,
                        "--from-django env reads the original's POSTGRES_DB, POSTGRES_USER, "
                        "POSTGRES_PASSWORD, POSTGRES_HOST and POSTGRES_PORT, but POSTGRES_DB is "
                        "not set");
        }
        options.postgresql_url = *url;
        return options;
    }
    if (source.starts_with("postgresql://") || source.starts_with("postgres://")) {
        options.postgresql_url = source;
        return options;
    }
    if (const auto scheme = source.find("://"); scheme != std::string::npos) {
        return fail(ErrorKind::invalid_input,
                    "--from-django " + redact_url(source) +
                        ": not a postgresql:// URI, `env` or the path of a SQLite file");
    }
    std::error_code error;
    if (!std::filesystem::is_regular_file(source, error)) {
        return fail(ErrorKind::invalid_input, "--from-django " + source +
                                                  ": no such file (give the original's SQLite "
                                                  "file, a postgresql:// URI or `env`)");
    }
    options.path = source;
    return options;
}

// "images 120000/1000000" rewritten in place on a terminal; nothing otherwise.
original::Progress progress_line() {
    if (!stderr_is_terminal()) return {};
    return [](std::string_view phase, std::int64_t done, std::int64_t total) {
        std::cerr << "\r" << phase << ": " << done;
        if (total >= 0) std::cerr << " of " << total;
        std::cerr << "   " << std::flush;
    };
}

std::string plural(std::int64_t count, const std::string& one, const std::string& many) {
    return std::to_string(count) + " " + (count == 1 ? one : many);
}

nlohmann::json report_json(const original::ImportReport& report, bool dry_run) {
    nlohmann::json conflicts = nlohmann::json::array();
    for (const auto& conflict : report.conflicts)
        conflicts.push_back({{"row", conflict.row}, {"reason", conflict.reason}});
    return {{"source", report.source},
            {"source_migration", report.migration},
            {"source_images", report.source_images},
            {"source_pending_deletions", report.source_pending},
            {"pending_deletions_table", report.has_pending_table},
            {"dry_run", dry_run},
            {"written", report.written},
            {"images",
             {{"imported", report.images_imported},
              {"unchanged", report.images_unchanged},
              {"updated", report.images_updated},
              {"removed", report.images_removed},
              {"deleted_in_gallery", report.images_deleted_here}}},
            {"pending_deletions",
             {{"queued", report.pending_queued},
              {"already_queued", report.pending_already_queued},
              {"still_referenced", report.pending_still_referenced},
              {"already_deleted", report.pending_already_deleted},
              {"at_max_attempts", report.pending_at_max_attempts}}},
            {"merged_clients", report.merged_clients},
            {"conflict_count", report.conflict_count},
            {"conflicts", conflicts},
            {"next_id_above", report.next_id_above}};
}

void print_summary(const original::ImportReport& report, bool dry_run) {
    std::cout << (dry_run ? "Dry run (nothing written): " : "") << "the original's database "
              << report.source << " (migration " << report.migration << ") has "
              << plural(report.source_images, "image", "images") << " and "
              << plural(report.source_pending, "pending deletion", "pending deletions") << ". "
              << (dry_run || !report.written ? "Would import " : "Imported ")
              << plural(report.images_imported, "new image", "new images") << " ("
              << report.images_unchanged << " already here, " << report.images_updated
              << " updated from the original, " << report.images_removed
              << " deleted in the original since and deleted here, " << report.images_deleted_here
              << " deleted in gallery since and left deleted) and "
              << (dry_run || !report.written ? "would queue " : "queued ")
              << plural(report.pending_queued, "pending deletion", "pending deletions") << " ("
              << report.pending_already_queued << " already queued, "
              << report.pending_still_referenced << " still used by an image, "
              << report.pending_already_deleted << " already deleted).";
    if (report.pending_at_max_attempts > 0) {
        std::cout << " " << plural(report.pending_at_max_attempts, "of them has", "of them have")
                  << " as many attempts in the original as max_attempts allows: the next cleanup "
                     "marks them dead, and `gallery cleanup --retry-dead` tries them again.";
    }
    if (!report.has_pending_table) {
        std::cout << " The original is before migration 0009, so it has no pending deletions to "
                     "carry over.";
    }
    if (!report.merged_clients.empty()) {
        std::cout << " Client ids that differ only in letter case are one client in gallery: ";
        for (std::size_t i = 0; i < report.merged_clients.size(); ++i) {
            std::cout << (i ? "; " : "");
            for (std::size_t j = 0; j < report.merged_clients[i].size(); ++j)
                std::cout << (j ? ", " : "") << "'" << printable(report.merged_clients[i][j])
                          << "'";
        }
        std::cout << ".";
    }
    if (report.conflict_count == 0)
        std::cout << " New uploads get ids above " << report.next_id_above << ".";
    std::cout << "\n";
    if (report.conflict_count > 0) {
        std::cout << plural(report.conflict_count, "row conflicts", "rows conflict")
                  << " with what gallery has, so nothing was written:\n";
        for (const auto& conflict : report.conflicts)
            std::cout << "  " << conflict.row << ": " << conflict.reason << "\n";
        if (report.conflict_count > static_cast<std::int64_t>(report.conflicts.size()))
            std::cout << "  ... and " << report.conflict_count - report.conflicts.size()
                      << " more\n";
    }
}

}  // namespace

constexpr int k_import_cache_kib = 32 * 1024;

Result<void> run_import_from_django(const config::Config& config, const ImportFlags& flags) {
    auto source_settings = source_options(flags.source);
    if (!source_settings) return std::unexpected(source_settings.error());
    source_settings->statement_timeout = std::chrono::seconds(300);
    db::Connection source(*source_settings);

    db::ConnectionOptions target_settings = database_options(config);
    target_settings.statement_timeout = std::chrono::seconds(300);
    target_settings.create_if_missing = !flags.dry_run;
    // The run is one write transaction: with SQLite's default 2 MB page cache its dirty
    // pages spill into the WAL and are read back from it, again and again (BENCHMARKS).
    target_settings.cache_kib = k_import_cache_kib;
    db::Connection target(target_settings);
    if (flags.dry_run) {
        db::require_current_schema(target);
    } else {
        auto applied = db::migrate(target, db::embedded_migrations(target.engine()), now_micros());
        if (!applied) return std::unexpected(applied.error());
    }

    const original::Progress progress = progress_line();
    const original::ImportOptions options{
        .dry_run = flags.dry_run, .progress = progress, .max_attempts = config.max_attempts};
    auto report = original::import_original(source, target, options, now_micros());
    if (progress) std::cerr << "\n";
    if (!report) return std::unexpected(report.error());

    std::optional<original::StorageCheck> check;
    if (flags.verify_storage) {
        const std::unique_ptr<storage::Storage> storage = storage::open_storage(config);
        auto verified = original::verify_storage(target, *storage, progress);
        if (progress) std::cerr << "\n";
        if (!verified) return std::unexpected(verified.error());
        check = *verified;
    }

    if (flags.json) {
        nlohmann::json json = report_json(*report, flags.dry_run);
        if (check) {
            json["storage"] = {{"checked", check->checked},
                               {"missing_count", check->missing_count},
                               {"missing", check->missing},
                               {"listed_objects", check->listed_objects}};
        }
        print_json(json);
    } else {
        print_summary(*report, flags.dry_run);
        if (report->written && report->images_imported > 0 && !config.public_url.empty() &&
            !config.variants.empty()) {
            std::cout << "With public_url set, the API gives the variants' public URLs: run "
                         "`gallery variants --missing` to make the imported images' variants.\n";
        }
        if (check) {
            std::cout << "Storage: checked " << plural(check->checked, "key", "keys") << " ("
                      << check->listed_objects << " objects listed), " << check->missing_count
                      << " missing" << (check->missing.empty() ? "." : ":") << "\n";
            for (const std::string& key : check->missing)
                std::cout << "  " << printable(key) << "\n";
        }
    }
    if (report->conflict_count > 0) {
        return fail(ErrorKind::invalid_input,
                    plural(report->conflict_count, "row of the original conflicts",
                           "rows of the original conflict") +
                        " with what gallery has: nothing was imported (see the list above)");
    }
    if (check && check->missing_count > 0) {
        return fail(ErrorKind::storage_permanent,
                    plural(check->missing_count, "imported image has", "imported images have") +
                        " no object in storage (listed above)");
    }
    return {};
}

}  // namespace gallery::cli
