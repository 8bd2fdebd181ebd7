// gallery enqueue: queues storage keys for deletion by hand (arguments or stdin),
// all or nothing (cleanup::enqueue_keys), or sweeps storage for orphans.

#include <iostream>

#include "cli/commands.hpp"
#include "gallery/cleanup/enqueue_keys.hpp"
#include "gallery/cleanup/orphan_sweep.hpp"
#include "gallery/common/text.hpp"
#include "gallery/storage/factory.hpp"

namespace gallery::cli {

namespace {

struct EnqueueOptions {
    std::vector<std::string> keys;
    std::string client_id;
    bool json = false;
    bool orphans = false;
    std::string prefix = "images/";
    std::string older_than = "24h";
    bool dry_run = false;
    std::string start_after;
};

constexpr std::size_t k_max_stdin_line = 4096;

// "-" among the keys means: read one key per line from standard input.
Result<std::vector<std::string>> collect_keys(const std::vector<std::string>& arguments) {
    std::vector<std::string> keys;
    for (const std::string& argument : arguments) {
        if (argument != "-") {
            keys.push_back(argument);
            continue;
        }
        std::string line;
        while (std::getline(std::cin, line)) {
            if (line.ends_with('\r')) line.pop_back();
            if (line.empty()) continue;
            if (line.size() > k_max_stdin_line)
                return fail(ErrorKind::invalid_input,
                            "a line on standard input is longer than 4096 bytes");
            keys.push_back(std::move(line));
        }
    }
    return keys;
}

// Backups kept in the bucket are never queued, by hand or by the sweep.
std::string backups_prefix(const config::Config& config) {
    return config.backup_to == config::BackupTarget::s3 ? config.backup_prefix : std::string();
}

Result<void> run_orphan_sweep(db::Connection& connection, storage::Storage& storage,
                              const EnqueueOptions& options, const config::Config& config) {
    cleanup::SweepOptions sweep;
    sweep.protected_prefix = backups_prefix(config);
    sweep.prefix = options.prefix;
    sweep.older_than = *parse_duration(options.older_than);  // validated while parsing
    sweep.dry_run = options.dry_run;
    sweep.start_after = options.start_after;
    sweep.client_id = options.client_id;
    const bool progress = stderr_is_terminal() && !options.json;
    const auto report = cleanup::sweep_orphans(
        connection, storage, sweep, system_clock(),
        [&](const storage::ObjectInfo& orphan) {
            if (options.dry_run && !options.json)
                std::cout << "orphan " << printable(orphan.key) << " (" << orphan.size
                          << " bytes)\n";
        },
        [&](const cleanup::SweepReport& so_far) {
            if (progress)
                std::cerr << "\rscanned " << so_far.scanned << ", orphans " << so_far.orphans
                          << "   " << std::flush;
        });
    if (progress && report.scanned > 0) std::cerr << "\n";
    if (options.json) {
        nlohmann::json out{{"success", !report.stopped_by},
                           {"dry_run", options.dry_run},
                           {"scanned", report.scanned},
                           {"orphans", report.orphans},
                           {"orphan_bytes", report.orphan_bytes},
                           {"queued", report.queued},
                           {"already_queued", report.already_queued},
                           {"referenced", report.referenced},
                           {"in_flight", report.in_flight},
                           {"too_young", report.too_young},
                           {"protected", report.protected_keys},
                           {"last_key", report.last_key}};
        if (report.stopped_by) out["error"] = report.stopped_by->message;
        print_json(out);
    } else {
        std::cout << "scanned " << report.scanned << " objects under '" << options.prefix
                  << "': " << report.orphans << " orphan" << (report.orphans == 1 ? "" : "s")
                  << " (" << format_bytes(report.orphan_bytes) << ")"
                  << (options.dry_run ? ", nothing queued (dry run)"
                                      : ", " + std::to_string(report.queued) + " queued")
                  << "; skipped " << report.referenced << " referenced, " << report.in_flight
                  << " being uploaded, " << report.already_queued << " already queued, "
                  << report.too_young << " newer than " << options.older_than
                  << (report.protected_keys > 0
                          ? ", " + std::to_string(report.protected_keys) + " backup files"
                          : std::string())
                  << "\n";
    }
    if (report.stopped_by) {
        Error stopped = *report.stopped_by;
        stopped.message += "\nresume with --start-after '" + report.last_key + "'";
        return std::unexpected(stopped);
    }
    return {};
}

Result<void> run_enqueue(const Globals& globals, const EnqueueOptions& options) {
    const config::Config config = load_config(globals);
    db::Connection connection = open_database(config);
    const std::unique_ptr<storage::Storage> storage = storage::open_storage(config);
    if (options.orphans) return run_orphan_sweep(connection, *storage, options, config);

    auto keys = collect_keys(options.keys);
    if (!keys) return std::unexpected(keys.error());
    auto outcome = cleanup::enqueue_keys(connection, *storage, *keys, options.client_id,
                                         now_micros(), backups_prefix(config));
    if (!outcome) return std::unexpected(outcome.error());
    const std::size_t queued = outcome->queued;
    const std::size_t already = outcome->already_pending;
    if (options.json) {
        print_json({{"queued", queued}, {"already_pending", already}});
    } else {
        std::cout << "queued " << queued << " key" << (queued == 1 ? "" : "s") << " (" << already
                  << " already pending)\n";
    }
    return {};
}

}  // namespace

void add_enqueue_command(CLI::App& app, Globals& globals, Command& selected) {
    auto options = std::make_shared<EnqueueOptions>();
    CLI::App* command =
        app.add_subcommand("enqueue",
                           "Queue storage keys for deletion by hand, or sweep storage for orphans\n"
                           "  e.g. gallery enqueue images/a.jpg images/b.jpg --client-id shop-1\n"
                           "       gallery enqueue --orphans --older-than 24h --dry-run");
    command->footer(
        "Examples:\n  gallery enqueue images/a.jpg images/b.jpg --client-id shop-1\n  gallery "
        "enqueue - < keys.txt\n  gallery enqueue --orphans --older-than 24h --dry-run");
    command->add_option("keys", options->keys,
                        "Storage keys (e.g. images/<file>), or - to read one per line from stdin");
    command->add_flag(
        "--orphans", options->orphans,
        "Walk storage and queue every object no image references (not being uploaded, not queued)");
    command->add_option("--prefix", options->prefix,
                        "With --orphans: where to walk (default images/)");
    command
        ->add_option("--older-than", options->older_than,
                     "With --orphans: only objects older than this (default 24h)")
        ->check([](const std::string& text) {
            return parse_duration(text) ? std::string()
                                        : "expected a duration such as 90s, 15m, 24h or 7d";
        });
    command->add_flag("--dry-run", options->dry_run,
                      "With --orphans: list the orphans, queue nothing");
    command->add_option("--start-after", options->start_after,
                        "With --orphans: resume a sweep after this key");
    command->add_option("--client-id", options->client_id,
                        "Client the keys belonged to (shown in stats and admin)");
    command->add_flag("--json", options->json, "Print one JSON object");
    command->callback([&globals, &selected, options] {
        if (options->orphans && !options->keys.empty()) {
            throw CLI::ValidationError("--orphans", "takes no keys: it finds them in storage");
        }
        if (!options->orphans && options->keys.empty()) {
            throw CLI::ValidationError("keys",
                                       "give keys, - to read them from stdin, or --orphans");
        }
        selected = [&globals, options] { return run_enqueue(globals, *options); };
    });
}

}  // namespace gallery::cli
