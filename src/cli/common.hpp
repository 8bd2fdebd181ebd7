#pragma once
// What every subcommand shares: global options, configuration loading, output helpers.

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "gallery/common/error.hpp"
#include "gallery/config/config.hpp"
#include "gallery/db/connection.hpp"

namespace gallery::cli {

// Filled while CLI11 parses; read when the chosen command runs.
struct Globals {
    std::string config_file;
    std::string env_file;
    std::map<std::string, std::string>
        setting_flags;  // setting name -> value given on the command line
};

// The selected subcommand's body. It prints what it has to say on stdout and returns
// its outcome; main() prints an error's message and turns its kind into the exit code.
using Command = std::function<Result<void>()>;

// The environment file, before anything reads the environment: --env-file PATH (or
// GALLERY_ENV_FILE), else ./.env when it exists. Its names join the process
// environment (which wins). Throws StartupError when a named file cannot be read.
void load_environment_file(int argc, const char* const* argv);

void add_global_options(CLI::App& app, Globals& globals);

// Adds `--flag` that records its value as the setting `name` (validated later by
// config::resolve); its help ends with the setting's environment names and default,
// taken from the settings table.
CLI::Option* add_setting_flag(CLI::App& app, Globals& globals, const std::string& flag,
                              const std::string& setting, const std::string& help);

// A layout in which gallery would destroy its own catalog: on local storage, the
// database (and so its -wal/-shm) or the backup folder under the media root, whose
// files /media/ serves, the orphan sweep queues and cleanup deletes. Throws
// StartupError (exit code 2) with a sentence.
void refuse_destructive_layout(const config::Config& config);

// Throws StartupError (exit code 2) for an unreadable config file, a bad value or a
// destructive layout (refuse_destructive_layout): every command checks it.
config::Config load_config(const Globals& globals);

// How to open the configured database (SQLite file or PostgreSQL URL).
db::ConnectionOptions database_options(const config::Config& config);

// The configured database for messages: the file, or the URL without its password.
std::string database_name(const config::Config& config);

// Opens the database and checks its schema is current (StartupError otherwise).
db::Connection open_database(const config::Config& config);
db::Connection open_database(const db::ConnectionOptions& options);

bool stderr_is_terminal();

void print_json(const nlohmann::json& value);

using config::parse_duration;

}  // namespace gallery::cli
