// gallery migrate: creates or upgrades the database schema from the embedded migrations.

#include <iostream>

#include "cli/commands.hpp"
#include "gallery/common/json_time.hpp"
#include "gallery/db/migrator.hpp"

namespace gallery::cli {

namespace {

struct MigrateOptions {
    bool status = false;
    bool json = false;
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
        print_json({{"applied", *applied},
                    {"schema_version", version},
                    {"database", name}});
    } else if (*applied == 0) {
        std::cout << "database " << name << " is up to date (schema version "
                  << version << ")\n";
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
        "--status");
    command->add_flag("--status", options->status,
                      "List applied and pending migrations; change nothing");
    command->add_flag("--json", options->json, "Print one JSON object");
    command->callback([&globals, &selected, options] {
        selected = [&globals, options] { return run_migrate(globals, *options); };
    });
}

}  // namespace gallery::cli
