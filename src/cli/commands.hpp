#pragma once
// One function per subcommand, each in its own file: adds the subcommand and its
// options to `app`, and sets `selected` to its body when the user picks it.

#include "cli/common.hpp"

namespace gallery::cli {

void add_migrate_command(CLI::App& app, Globals& globals, Command& selected);
void add_cleanup_command(CLI::App& app, Globals& globals, Command& selected);
void add_stats_command(CLI::App& app, Globals& globals, Command& selected);
void add_enqueue_command(CLI::App& app, Globals& globals, Command& selected);
void add_serve_command(CLI::App& app, Globals& globals, Command& selected);
void add_backup_command(CLI::App& app, Globals& globals, Command& selected);
void add_variants_command(CLI::App& app, Globals& globals, Command& selected);

}  // namespace gallery::cli
