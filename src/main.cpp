// gallery: one binary, five subcommands. This is the one place where errors
// become exit codes (see gallery::exit_code).

#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "gallery/common/error.hpp"

namespace {

// ErrorKind -> the exit codes README documents (gallery::exit_code), for the errors
// commands return and the StartupErrors they throw alike.
int exit_code_for(gallery::ErrorKind kind) {
    using gallery::ErrorKind;
    switch (kind) {
        case ErrorKind::storage_transient:
        case ErrorKind::storage_permanent:
        case ErrorKind::io:
            return gallery::exit_code::storage;
        case ErrorKind::invalid_input:
            return gallery::exit_code::usage;
        case ErrorKind::not_found:
        case ErrorKind::database:
        case ErrorKind::database_unavailable:
        case ErrorKind::overloaded:
        case ErrorKind::system:
        case ErrorKind::disk_full:
            return gallery::exit_code::failure;
    }
    return gallery::exit_code::failure;
}

// One "gallery: " line per line of the message.
void print_error(const std::string& message) {
    std::istringstream lines(message);
    for (std::string line; std::getline(lines, line);) std::cerr << "gallery: " << line << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    using namespace gallery;
    CLI::App app{"gallery: an image store whose deletes never wait on storage"};
    app.require_subcommand(1);
    app.fallthrough();  // global options may also follow the subcommand
    app.set_version_flag("--version",
                         "gallery " GALLERY_VERSION " (commit " GALLERY_GIT_COMMIT ")");
    cli::Globals globals;
    cli::Command selected;
    cli::add_global_options(app, globals);
    cli::add_migrate_command(app, globals, selected);
    cli::add_cleanup_command(app, globals, selected);
    cli::add_stats_command(app, globals, selected);
    cli::add_enqueue_command(app, globals, selected);
    cli::add_serve_command(app, globals, selected);
    cli::add_backup_command(app, globals, selected);
    cli::add_variants_command(app, globals, selected);

    try {
        cli::load_environment_file(argc, argv);
    } catch (const StartupError& e) {
        print_error(e.what());
        return exit_code_for(e.kind());
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "gallery: " << e.what() << "\n(run `gallery --help` for usage)\n";
        return exit_code::usage;
    }

    try {
        const Result<void> outcome = selected();
        if (outcome) return exit_code::ok;
        print_error(outcome.error().message);
        return exit_code_for(outcome.error().kind);
    } catch (const StartupError& e) {
        print_error(e.what());
        return exit_code_for(e.kind());
    } catch (const std::exception& e) {
        std::cerr << "gallery: unexpected failure: " << e.what() << "\n";
        return exit_code::failure;
    }
}
