// gallery stats: queue and image statistics, a table for people, --json for scripts.

#include <iomanip>
#include <iostream>

#include "cli/commands.hpp"
#include "gallery/backup/backup.hpp"
#include "gallery/catalog/catalog.hpp"
#include "gallery/common/text.hpp"
#include "gallery/common/variant_key.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/queue/reconcile.hpp"
#include "gallery/queue/stats_json.hpp"
#include "gallery/storage/factory.hpp"

namespace gallery::cli {

namespace {

struct StatsOptions {
    bool json = false;
    std::size_t top = 10;
    bool check = false;
    std::string file;
};

constexpr UnixMicros k_week = 7LL * 86400 * k_micros_per_second;

// Every image row whose object is missing from storage (HEAD each), and how many of
// the configured variants are not made yet (not an error: made on first request, or
// by `gallery variants --missing`), changing nothing.
Result<void> run_check(db::Connection& connection, storage::Storage& storage,
                       const config::Config& config, const StatsOptions& options) {
    std::int64_t checked = 0;
    std::int64_t variants_missing = 0;
    std::vector<std::string> missing;
    catalog::ImageId after = 0;
    for (;;) {
        auto page = catalog::image_keys_after(connection, after, 500);
        if (!page) {
            return std::unexpected(page.error());
        }
        if (page->empty()) break;
        for (const auto& image : *page) {
            auto info = storage.head(image.storage_key);
            if (!info) {
                return std::unexpected(info.error());
            }
            ++checked;
            if (!info->has_value()) {
                missing.push_back(image.storage_key);
                if (!options.json)
                    std::cout << "missing " << printable(image.storage_key) << " (image id "
                              << image.id << ")\n";
            }
            for (const config::VariantSpec& variant : config.variants) {
                auto made = storage.head(
                    variant_key(variant.name, image.storage_key, config.variant_format));
                if (!made) return std::unexpected(made.error());
                if (!made->has_value()) ++variants_missing;
            }
        }
        after = page->back().id;
    }
    if (options.json) {
        print_json({{"checked", checked},
                    {"missing_count", missing.size()},
                    {"missing", missing},
                    {"variants_not_made", variants_missing}});
    } else {
        std::cout << "checked " << checked << " image" << (checked == 1 ? "" : "s") << ": "
                  << missing.size() << " missing from storage; " << variants_missing << " variant"
                  << (variants_missing == 1 ? "" : "s")
                  << " not made yet (gallery variants --missing makes them)\n";
    }
    return {};
}

Result<void> run_file_history(db::Connection& connection, const StatsOptions& options) {
    auto receipts = queue::receipts_for(connection, options.file);
    if (!receipts) {
        return std::unexpected(receipts.error());
    }
    // A variant is deleted with its image, in the same request: its image's receipts
    // say when (a variant queued on its own has receipts of its own).
    const auto variant = parse_variant_key(options.file);
    const bool through_image = receipts->empty() && variant;
    if (through_image) {
        receipts = queue::receipts_for(connection, std::string(variant->image_key));
        if (!receipts) return std::unexpected(receipts.error());
        if (!options.json && !receipts->empty())
            std::cout << printable(options.file) << " is a variant of "
                      << printable(variant->image_key) << ", deleted with it:\n";
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : *receipts) {
        out.push_back(
            {{"file_path", r.file_path},
             {"client_id", r.client_id},
             {"size_bytes", r.size_bytes ? nlohmann::json(*r.size_bytes) : nlohmann::json(nullptr)},
             {"deleted_at", to_iso8601(r.deleted_at)},
             {"purged_at",
              r.purged_at ? nlohmann::json(to_iso8601(*r.purged_at)) : nlohmann::json(nullptr)}});
        if (!options.json) {
            std::cout << printable(r.file_path) << " removed " << to_iso8601(r.deleted_at)
                      << " (client " << printable(r.client_id) << ")";
            if (r.purged_at)
                std::cout << ", its restore window ended on purpose at "
                          << to_iso8601(*r.purged_at);
            std::cout << "\n";
        }
    }
    if (options.json)
        print_json({{"file", options.file},
                    {"receipts", out},
                    {"variant_of", through_image ? nlohmann::json(std::string(variant->image_key))
                                                 : nlohmann::json(nullptr)}});
    else if (receipts->empty())
        std::cout << "no deletion receipt for " << printable(options.file)
                  << " (kept for receipt_days)\n";
    return {};
}

std::string age_text(std::int64_t seconds) {
    if (seconds < 120) return std::to_string(seconds) + "s";
    if (seconds < 2 * 3600) return std::to_string(seconds / 60) + "m";
    if (seconds < 2 * 86400) return std::to_string(seconds / 3600) + "h";
    return std::to_string(seconds / 86400) + "d";
}

void print_table(const queue::Stats& q, const catalog::Stats& images,
                 std::optional<std::int64_t> oldest_age,
                 const std::vector<queue::DailyReclaim>& reclaimed) {
    const auto row = [](const std::string& label, const std::string& value) {
        std::cout << "  " << std::left << std::setw(26) << label << value << "\n";
    };
    std::cout << "Deletion queue\n";
    row("pending", std::to_string(q.pending));
    row("  due now", std::to_string(q.due));
    row("  leased now", std::to_string(q.leased));
    row("dead",
        std::to_string(q.dead) + (q.dead > 0 ? "  (requeue: gallery cleanup --retry-dead)" : ""));
    row("oldest queued", q.oldest_queued ? to_iso8601(*q.oldest_queued) : "-");
    row("newest queued", q.newest_queued ? to_iso8601(*q.newest_queued) : "-");
    row("age of oldest pending", oldest_age ? age_text(*oldest_age) : "-");
    std::string bytes = format_bytes(q.bytes_pending);
    if (q.pending_unknown_size > 0)
        bytes += " (+" + std::to_string(q.pending_unknown_size) + " of unknown size)";
    row("bytes pending", bytes);
    row("held by backup", std::to_string(q.held_by_backup));
    row("restorable", std::to_string(q.restorable) +
                          (q.restorable > 0 ? " (" + format_bytes(q.bytes_restorable) + ")" : ""));
    row("first window end", q.first_window_end ? to_iso8601(*q.first_window_end) : "-");
    std::string histogram;
    for (const auto& a : q.by_attempts) {
        histogram += (histogram.empty() ? "" : ", ") + std::to_string(a.attempts) + ": " +
                     std::to_string(a.count);
    }
    row("attempts (pending)", histogram.empty() ? "-" : histogram);
    if (!reclaimed.empty()) {
        std::cout << "\nReclaimed (last 7 days, UTC)\n";
        for (const auto& day : reclaimed) {
            row(day.day, std::to_string(day.objects) + " objects, " + format_bytes(day.bytes));
        }
    }
    std::cout << "\nImages\n";
    row("total", std::to_string(images.total_images));
    row("total size", format_bytes(images.total_size));
    row("clients", std::to_string(images.unique_clients));
    if (!images.by_client.empty()) {
        std::cout << "\nTop clients\n";
        std::cout << "  " << std::left << std::setw(30) << "client_id" << std::right
                  << std::setw(10) << "images" << std::setw(14) << "size"
                  << "\n";
        for (const auto& c : images.by_client) {
            std::cout << "  " << std::left << std::setw(30) << printable(c.client_id) << std::right
                      << std::setw(10) << c.count << std::setw(14) << format_bytes(c.total_size)
                      << "\n";
        }
    }
}

Result<void> run_stats(const Globals& globals, const StatsOptions& options) {
    const config::Config config = load_config(globals);
    db::Connection connection = open_database(config);
    if (options.check)
        return run_check(connection, *storage::open_storage(config), config, options);
    if (!options.file.empty()) return run_file_history(connection, options);
    const UnixMicros now = now_micros();
    auto held = backup::guard_since(connection, config);
    if (!held) return std::unexpected(held.error());
    auto q = queue::stats(connection, now, *held);
    auto images = catalog::stats(connection, options.top);
    auto reclaimed = queue::reclaimed_per_day(connection, now - k_week);
    if (!q) return std::unexpected(q.error());
    if (!images) return std::unexpected(images.error());
    if (!reclaimed) return std::unexpected(reclaimed.error());
    std::optional<std::int64_t> oldest_age;
    if (q->oldest_queued) oldest_age = (now - *q->oldest_queued) / k_micros_per_second;

    if (!options.json) {
        print_table(*q, *images, oldest_age, *reclaimed);
        return {};
    }
    nlohmann::json by_client = nlohmann::json::array();
    for (const auto& c : images->by_client) {
        by_client.push_back(
            {{"client_id", c.client_id}, {"count", c.count}, {"total_size", c.total_size}});
    }
    nlohmann::json per_day = nlohmann::json::array();
    for (const auto& day : *reclaimed)
        per_day.push_back({{"day", day.day}, {"objects", day.objects}, {"bytes", day.bytes}});
    print_json({{"reclaimed_per_day", per_day},
                {"queue", queue::stats_json(*q, now)},
                {"images",
                 {{"total_images", images->total_images},
                  {"total_size", images->total_size},
                  {"unique_clients", images->unique_clients},
                  {"top_clients", by_client}}}});
    return {};
}

}  // namespace

void add_stats_command(CLI::App& app, Globals& globals, Command& selected) {
    auto options = std::make_shared<StatsOptions>();
    CLI::App* command = app.add_subcommand("stats",
                                           "Show deletion queue and image statistics\n"
                                           "  e.g. gallery stats --json | jq .queue.pending");
    command->footer("Examples:\n  gallery stats\n  gallery stats --json | jq .queue.pending");
    command->add_flag("--json", options->json, "Print one JSON object");
    command->add_option("--top", options->top, "How many clients to list (default 10)")
        ->check(CLI::Range(0, 1000));
    command->add_flag("--check", options->check,
                      "List image rows whose object is missing from storage, and count the "
                      "variants not made yet (HEAD each)");
    command->add_option("--file", options->file,
                        "When was this storage key removed? (deletion receipts)");
    command->callback([&globals, &selected, options] {
        selected = [&globals, options] { return run_stats(globals, *options); };
    });
}

}  // namespace gallery::cli
