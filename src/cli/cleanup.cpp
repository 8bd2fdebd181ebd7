// gallery cleanup: the cron entry point. Claims queued deletions, deletes the
// objects from storage, records the outcome.

#include <algorithm>
#include <csignal>
#include <iostream>

#include "cli/commands.hpp"
#include "gallery/cleanup/cleaner.hpp"
#include "gallery/cleanup/report_json.hpp"
#include "gallery/cleanup/run_log.hpp"
#include "gallery/common/text.hpp"
#include "gallery/queue/deleted_images.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/storage/factory.hpp"

namespace gallery::cli {

namespace {

struct CleanupOptions {
    bool until_empty = false;
    std::optional<int> max_seconds;
    bool retry_dead = false;
    bool dry_run = false;
    bool verify = false;
    bool json = false;
    bool purge_restorable = false;
    std::optional<std::string> purge_client;
};

volatile std::sig_atomic_t g_stop_requested = 0;

void request_stop(int) {
    g_stop_requested = 1;
}

void print_report(const cleanup::Report& report) {
    std::cout << "Cleanup finished: processed " << report.processed << ", deleted "
              << report.deleted << ", failed " << report.failed << ", dead (skipped) "
              << report.dead << ", dropped as still in use " << report.skipped_live << "\n"
              << "Remaining in queue: " << report.remaining << "\n"
              << "Bytes reclaimed: " << format_bytes(report.bytes_reclaimed) << "\n";
    if (report.intents_queued > 0) {
        std::cout << "Crashed uploads found and queued: " << report.intents_queued << "\n";
    }
    if (report.processed == 0 && report.waiting_for_retry > 0) {
        std::cout << "Nothing was due: " << report.waiting_for_retry
                  << (report.waiting_for_retry == 1 ? " row waits" : " rows wait")
                  << " for a retry after a failure (or for a lease another cleaner holds)";
        if (report.next_attempt_at) {
            const auto seconds = std::max<std::int64_t>(
                0, (*report.next_attempt_at - now_micros() + k_micros_per_second - 1) /
                       k_micros_per_second);
            std::cout << "; the next is due at " << to_iso8601(*report.next_attempt_at) << " (in "
                      << seconds << " s)";
        }
        std::cout << "\n";
    }
    if (report.processed == 0 && report.restorable > 0) {
        std::cout << "Restorable: " << report.restorable
                  << (report.restorable == 1 ? " deleted image waits" : " deleted images wait")
                  << " for the end of its restore window (restore_window)";
        if (report.first_window_end)
            std::cout << "; the first ends at " << to_iso8601(*report.first_window_end);
        std::cout << "\n";
    }
}

Result<void> run_dry(cleanup::Cleaner& cleaner, const CleanupOptions& options) {
    auto plan = cleaner.plan();
    if (!plan) {
        return std::unexpected(plan.error());
    }
    if (options.json) {
        nlohmann::json entries = nlohmann::json::array();
        for (const auto& e : *plan) {
            entries.push_back({{"key", e.key},
                               {"client_id", e.client_id},
                               {"attempts", e.attempts},
                               {"action", e.live ? "drop (still in use)" : "delete"}});
        }
        print_json({{"dry_run", true}, {"items", entries}});
    } else {
        for (const auto& e : *plan) {
            std::cout << (e.live ? "would drop (still in use) " : "would delete ") << e.key << "\n";
        }
        std::cout << plan->size() << " due item" << (plan->size() == 1 ? "" : "s")
                  << " in the next batch; nothing changed\n";
    }
    return {};
}

Result<void> run_cleanup(const Globals& globals, const CleanupOptions& options) {
    const config::Config config = load_config(globals);
    // The cleaner's cache, checkpoints and journals: see cleaner_connection (BENCHMARKS,
    // "The cleaner's cost per row", third pass).
    db::Connection connection =
        open_database(cleanup::cleaner_connection(database_options(config)));

    if (options.retry_dead) {
        auto requeued = queue::retry_dead(connection, now_micros());
        if (!requeued) {
            return std::unexpected(requeued.error());
        }
        if (options.json)
            print_json({{"success", true}, {"requeued", *requeued}});
        else
            std::cout << "requeued " << *requeued << " dead item" << (*requeued == 1 ? "" : "s")
                      << "\n";
        return {};
    }

    const std::unique_ptr<storage::Storage> storage = storage::open_storage(config);
    cleanup::Options cleaner_options = cleanup::options_from(config);
    cleaner_options.until_empty = options.until_empty;
    if (options.max_seconds) cleaner_options.max_time = std::chrono::seconds(*options.max_seconds);
    cleaner_options.stop_requested = [] { return g_stop_requested != 0; };
    cleaner_options.verify = options.verify;
    cleanup::Cleaner cleaner(connection, *storage, cleaner_options, system_clock(),
                             queue::make_lease_owner());

    if (options.dry_run) return run_dry(cleaner, options);

    // Purged rows are due at once: this run deletes them like any other.
    std::optional<std::size_t> purged;
    if (options.purge_restorable) {
        queue::ImageSelection selection;
        selection.scope = options.purge_client ? queue::ImageSelection::Scope::client
                                               : queue::ImageSelection::Scope::all;
        selection.client_id = options.purge_client.value_or("");
        auto ids = queue::purge_restorable(connection, selection, now_micros());
        if (!ids) return std::unexpected(ids.error());
        purged = ids->size();
        if (!options.json) {
            std::cout << "Purged " << *purged << " deleted image" << (*purged == 1 ? "" : "s")
                      << (options.purge_client ? " of client " + printable(*options.purge_client)
                                               : std::string())
                      << ": no longer restorable; their files are deleted now\n";
        }
    }

    // SIGINT/SIGTERM end the run after the current batch: nothing is left half-done.
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
    const bool show_progress = options.until_empty && stderr_is_terminal();
    // A cron job stays quiet on stderr: the summary goes to stdout, not to the log.
    const cleanup::Report report =
        cleanup::run_and_record(cleaner, connection, "cron", system_clock(),
                                cleanup::RunLogLine::skip,
                                [&](const cleanup::Report& so_far) {
                                    if (!show_progress) return;
                                    std::cerr << "\rprocessed " << so_far.processed << ", deleted "
                                              << so_far.deleted << ", failed " << so_far.failed
                                              << ", dead " << so_far.dead << "   " << std::flush;
                                })
            .report;
    if (show_progress && report.batches > 0) std::cerr << "\n";

    if (options.json) {
        nlohmann::json out = cleanup::report_json(report);
        if (purged) out["purged"] = *purged;
        if (report.stopped_by) out["error"] = report.stopped_by->message;
        print_json(out);
    } else {
        print_report(report);
    }
    if (report.stopped_by) {
        return std::unexpected(with_context("cleanup stopped", *report.stopped_by));
    }
    return {};
}

}  // namespace

void add_cleanup_command(CLI::App& app, Globals& globals, Command& selected) {
    auto options = std::make_shared<CleanupOptions>();
    CLI::App* command =
        app.add_subcommand("cleanup", "Delete queued files from storage (run it from cron)");
    command->footer(
        "Examples:\n  gallery cleanup --until-empty --max-seconds 240   # what the systemd timer "
        "runs\n  gallery cleanup --dry-run                         # show the next batch\n  "
        "gallery cleanup --retry-dead\n  gallery cleanup --purge-restorable --client-id shop-1 "
        "--until-empty");
    add_setting_flag(*command, globals, "--batch-size", "batch_size",
                     "Rows claimed per batch, 1-1000");
    add_setting_flag(*command, globals, "--max-attempts", "max_attempts",
                     "Failures before a row is moved to dead");
    add_setting_flag(*command, globals, "--lease-seconds", "lease_seconds",
                     "How long a claimed batch is reserved");
    command->add_flag("--until-empty", options->until_empty,
                      "Keep claiming batches until none is due");
    command
        ->add_option("--max-seconds", options->max_seconds,
                     "With --until-empty: stop claiming after this long")
        ->check(CLI::Range(1, 7 * 24 * 3600));
    command->add_flag("--retry-dead", options->retry_dead,
                      "Requeue every dead item (attempts reset) and exit");
    command->add_flag("--dry-run", options->dry_run, "Show the next batch; change nothing");
    command->add_flag("--verify", options->verify,
                      "Confirm each object is gone (HEAD after delete) before removing its row");
    command->add_flag("--json", options->json, "Print one JSON object");
    command->add_flag("--purge-restorable", options->purge_restorable,
                      "End the restore window of every deleted image now (not restorable any "
                      "more), then delete their files in this run");
    command->add_option("--client-id", options->purge_client,
                        "With --purge-restorable: only this client's deleted images");
    command->callback([&globals, &selected, options] {
        if (options->max_seconds && !options->until_empty) {
            throw CLI::ValidationError("--max-seconds", "only makes sense with --until-empty");
        }
        if (options->purge_client && !options->purge_restorable) {
            throw CLI::ValidationError("--client-id", "only makes sense with --purge-restorable");
        }
        if (options->purge_restorable && (options->dry_run || options->retry_dead)) {
            throw CLI::ValidationError("--purge-restorable",
                                       "cannot be combined with --dry-run or --retry-dead");
        }
        selected = [&globals, options] { return run_cleanup(globals, *options); };
    });
}

}  // namespace gallery::cli
