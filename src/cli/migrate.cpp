// gallery migrate: creates or upgrades the database schema from the embedded migrations.

#include <iostream>

#include "cli/commands.hpp"
#include "cli/migrate_from_django.hpp"
#include "gallery/common/json_time.hpp"
#include "gallery/db/migrator.hpp"

namespace gallery::cli {

namespace {

struct MigrateOptions {
    bool status = false;
    bool json = false;
    std::string from_django;
    bool dry_run = false;
    bool verify_storage = false;
};

Result<void> print_status(db::Connection& connection, const MigrateOptions& options) {
    auto status = db::schema_status(connection, db::embedded_migrations(connection.engine()));
    if (!status) {
        return std::unexpected(status.error());
    }
    if (options.json) {
        nlohmann::json migrations = nlohmann::json::array();
        for (const auto& m : status->migrations) {
            migrations.push_back({{"version", m.version},
                                  {"name", m.name},
                                  {"applied_at", time_or_null(m.applied_at)}});
        }
        print_json({{"database_version", status->database_version},
                    {"binary_version", status->binary_version},
                    {"migrations", migrations}});
    } else {
        std::cout << "database " << connection.display_name() << ": schema version "
                  << status->database_version << ", this binary knows " << status->binary_version
                  << "\n";
        for (const auto& m : status->migrations) {
            std::cout << "  " << m.name << "  "
                      << (m.applied_at ? "applied " + to_iso8601(*m.applied_at) : "pending")
                      << "\n";
        }
    }
    if (status->newer_than_binary()) {
        return fail(ErrorKind::database,
                    "the database schema is newer than this binary: use a newer gallery binary");
    }
    return {};
}

Result<void> run_migrate(const Globals& globals, const MigrateOptions& options) {
    const config::Config config = load_config(globals);
    if (!options.from_django.empty()) {
        return run_import_from_django(config, {.source = options.from_django,
                                               .dry_run = options.dry_run,
                                               .verify_storage = options.verify_storage,
                                               .json = options.json});
    }
    if (options.dry_run || options.verify_storage) {
        return fail(ErrorKind::invalid_input,
                    "--dry-run and --verify-storage go with --from-django SOURCE");
    }
    db::ConnectionOptions database = database_options(config);
    database.create_if_missing = !options.status;
    db::Connection connection(database);
    if (options.status) return print_status(connection, options);

    const auto& migrations = db::embedded_migrations(connection.engine());
    auto applied = db::migrate(connection, migrations, now_micros());
    if (!applied) {
        return std::unexpected(applied.error());
    }
    const int version = migrations.empty() ? 0 : migrations.back().version;
    const std::string name = database_name(config);
    if (options.json) {
        print_json({{"applied", *applied}, {"schema_version", version}, {"database", name}});
    } else if (*applied == 0) {
        std::cout << "database " << name << " is up to date (schema version " << version << ")\n";
    } else {
        std::cout << "applied " << *applied << " migration" << (*applied == 1 ? "" : "s") << " to "
                  << name << " (schema version " << version << ")\n";
    }
    return {};
}

}  // namespace

void add_migrate_command(CLI::App& app, Globals& globals, Command& selected) {
    auto options = std::make_shared<MigrateOptions>();
    CLI::App* command =
        app.add_subcommand("migrate", "Create or upgrade the database schema (idempotent)");
    command->footer(
        "Examples:\n  gallery migrate --db /var/lib/gallery/data/gallery.db\n  gallery migrate "
        "--status\n  gallery migrate --from-django postgresql://django@db.internal/gallery "
        "--dry-run\n  gallery migrate --from-django /srv/original/db.sqlite3 --verify-storage");
    command->add_flag("--status", options->status,
                      "List applied and pending migrations; change nothing");
    command->add_flag("--json", options->json, "Print one JSON object");
    command
        ->add_option("--from-django", options->from_django,
                     "Import an original deployment: its PostgreSQL URI, `env` (its "
                     "POSTGRES_* variables) or its SQLite file; run again to bring over what "
                     "changed since")
        ->excludes("--status");
    command->add_flag("--dry-run", options->dry_run,
                      "With --from-django: count, list conflicts and merged clients; write "
                      "nothing");
    command->add_flag("--verify-storage", options->verify_storage,
                      "With --from-django: check that every image's object is in the storage");
    command->callback([&globals, &selected, options] {
        selected = [&globals, options] { return run_migrate(globals, *options); };
    });
}

}  // namespace gallery::cli
