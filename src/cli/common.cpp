#include "cli/common.hpp"
#include "gallery/common/log.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/config_file.hpp"
#include "gallery/common/error.hpp"
#include "gallery/common/text.hpp"
#include "gallery/config/dotenv.hpp"
#include "gallery/db/migrator.hpp"

namespace gallery::cli {

void load_environment_file(int argc, const char* const* argv) {
    std::string path;
    bool named = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--env-file" && i + 1 < argc) {
            path = argv[i + 1];
            named = true;
        } else if (arg.starts_with("--env-file=")) {
            path = std::string(arg.substr(11));
            named = true;
        }
    }
    if (!named) {
        if (const char* variable = std::getenv("GALLERY_ENV_FILE")) {
            path = variable;
            named = true;
        }
    }
    if (!named) {
        std::error_code ignored;
        if (!std::filesystem::is_regular_file(".env", ignored)) return;
        path = ".env";
    }
    config::load_env_file(path);
}

void add_global_options(CLI::App& app, Globals& globals) {
    // Read by load_environment_file() before parsing; here for --help and validation.
    app.add_option("--env-file", globals.env_file,
                   "Environment file read as python-dotenv reads the original's .env; "
                   "the process environment wins over it [default: ./.env when present]")
        ->envname("GALLERY_ENV_FILE");
    app.add_option("--config", globals.config_file,
                   "Config file (TOML; keys are the setting names listed in the README)")
        ->envname("GALLERY_CONFIG");
    add_setting_flag(app, globals, "--db", "db",
                     "SQLite database file, or a postgresql:// URI (libpq syntax)");
    add_setting_flag(app, globals, "--storage", "storage", "local or s3");
    add_setting_flag(app, globals, "--media-root", "media_root",
                     "Folder of the local storage backend");
    app.add_option_function<std::string>(
           "--log-format",
           [](const std::string& format) {
               log::set_format(format == "json" ? log::Format::json : log::Format::text);
           },
           "Log lines on stderr as text or json")
        ->envname("GALLERY_LOG_FORMAT")
        ->check(CLI::IsMember({"text", "json"}));
    app.add_option_function<std::string>(
           "--log-level",
           [](const std::string& level) {
               log::set_level(level == "debug"   ? log::Level::debug
                              : level == "warn"  ? log::Level::warn
                              : level == "error" ? log::Level::error
                                                 : log::Level::info);
           },
           "Least severe log lines written: debug, info, warn, error")
        ->envname("GALLERY_LOG_LEVEL")
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
}

CLI::Option* add_setting_flag(CLI::App& app, Globals& globals, const std::string& flag,
                              const std::string& setting, const std::string& help) {
    return app.add_option_function<std::string>(
        flag,
        [&globals, setting](const std::string& value) { globals.setting_flags[setting] = value; },
        help + " " + config::help_suffix(setting));
}

namespace {

// Whether `inner` is `outer` or lies under it, both made absolute and canonical as far
// as they exist ("media/" and "media" are one folder).
bool is_within(const std::filesystem::path& outer, const std::filesystem::path& inner) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path folder = fs::weakly_canonical(fs::absolute(outer), ec);
    if (ec) return false;
    const fs::path candidate = fs::weakly_canonical(fs::absolute(inner), ec);
    if (ec) return false;
    if (!folder.has_filename()) folder = folder.parent_path();
    return std::ranges::mismatch(folder, candidate).in1 == folder.end();
}

}  // namespace

void refuse_destructive_layout(const config::Config& config) {
    if (config.storage != config::StorageKind::local) return;
    const auto refuse = [&](const std::string& what, const std::filesystem::path& path) {
        throw StartupError(ErrorKind::invalid_input,
                           what + " " + path.string() + " is under the media root " +
                               config.media_root.string() +
                               ": move one of them (the media root's files are served over HTTP, "
                               "swept for orphans and deleted by cleanup)");
    };
    // The database's -wal, -shm and -journal sit beside it: the folder decides.
    if (config.db_url.empty() && is_within(config.media_root, config.db_path))
        refuse("the database", config.db_path);
    if (is_within(config.media_root, config.backup_dir))
        refuse("the backup folder", config.backup_dir);
}

config::Config load_config(const Globals& globals) {
    config::Sources sources;
    sources.flags = globals.setting_flags;
    sources.environment = config::process_environment;
    if (!globals.config_file.empty()) {
        sources.file_path = globals.config_file;
        sources.file = cli::read_config_file(globals.config_file);
    }
    config::Config config = config::resolve(sources);
    refuse_destructive_layout(config);
    return config;
}

db::ConnectionOptions database_options(const config::Config& config) {
    return {.path = config.db_path,
            .postgresql_url = config.db_url,
            .statement_timeout = std::max(config.http_timeout, std::chrono::seconds(30))};
}

std::string database_name(const config::Config& config) {
    return config.db_url.empty() ? config.db_path.string() : redact_url(config.db_url);
}

db::Connection open_database(const config::Config& config) {
    return open_database(database_options(config));
}

db::Connection open_database(const db::ConnectionOptions& options) {
    db::Connection connection(options);
    db::require_current_schema(connection);
    return connection;
}

bool stderr_is_terminal() {
    return ::isatty(STDERR_FILENO) == 1;
}

void print_json(const nlohmann::json& value) {
    std::cout << value.dump(2) << "\n";
}

}  // namespace gallery::cli
