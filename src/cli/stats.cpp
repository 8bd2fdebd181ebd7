// gallery stats: queue and image statistics, a table for people, --json for scripts.

#include <iomanip>
#include <iostream>

#include "cli/commands.hpp"
#include "gallery/catalog/catalog.hpp"
#include "gallery/queue/queue.hpp"

namespace gallery::cli {

namespace {

struct StatsOptions {
    bool json = false;
    std::size_t top = 10;
};

nlohmann::json optional_time(const std::optional<UnixMicros>& t) {
    return t ? nlohmann::json(to_iso8601(*t)) : nlohmann::json(nullptr);
}

std::string age_text(std::int64_t seconds) {
    if (seconds < 120) return std::to_string(seconds) + "s";
    if (seconds < 2 * 3600) return std::to_string(seconds / 60) + "m";
    if (seconds < 2 * 86400) return std::to_string(seconds / 3600) + "h";
    return std::to_string(seconds / 86400) + "d";
}

void print_table(const queue::Stats& q, const catalog::Stats& images, std::optional<std::int64_t> oldest_age) {
    const auto row = [](const std::string& label, const std::string& value) {
        std::cout << "  " << std::left << std::setw(26) << label << value << "\n";
    };
    std::cout << "Deletion queue\n";
    row("pending", std::to_string(q.pending));
    row("  due now", std::to_string(q.due));
    row("  leased now", std::to_string(q.leased));
    row("dead", std::to_string(q.dead) + (q.dead > 0 ? "  (requeue: gallery cleanup --retry-dead)" : ""));
    row("oldest queued", q.oldest_queued ? to_iso8601(*q.oldest_queued) : "-");
    row("newest queued", q.newest_queued ? to_iso8601(*q.newest_queued) : "-");
    row("age of oldest pending", oldest_age ? age_text(*oldest_age) : "-");
    std::string bytes = human_bytes(q.bytes_pending);
    if (q.pending_unknown_size > 0) bytes += " (+" + std::to_string(q.pending_unknown_size) + " of unknown size)";
    row("bytes pending", bytes);
    std::string histogram;
    for (const auto& a : q.by_attempts) {
        histogram += (histogram.empty() ? "" : ", ") + std::to_string(a.attempts) + ": " + std::to_string(a.count);
    }
    row("attempts (pending)", histogram.empty() ? "-" : histogram);
    std::cout << "\nImages\n";
    row("total", std::to_string(images.total_images));
    row("total size", human_bytes(images.total_size));
    row("clients", std::to_string(images.unique_clients));
    if (!images.by_client.empty()) {
        std::cout << "\nTop clients\n";
        std::cout << "  " << std::left << std::setw(30) << "client_id" << std::right << std::setw(10) << "images"
                  << std::setw(14) << "size" << "\n";
        for (const auto& c : images.by_client) {
            std::cout << "  " << std::left << std::setw(30) << c.client_id << std::right << std::setw(10) << c.count
                      << std::setw(14) << human_bytes(c.total_size) << "\n";
        }
    }
}

int run_stats(const Globals& globals, const StatsOptions& options) {
    const config::Config config = load_config(globals);
    db::Connection connection = open_database(config);
    const UnixMicros now = now_micros();
    auto q = queue::stats(connection, now);
    auto images = catalog::stats(connection, options.top);
    for (const Error* error : {q ? nullptr : &q.error(), images ? nullptr : &images.error()}) {
        if (error) {
            std::cerr << "gallery: " << error->message << "\n";
            return exit_code::failure;
        }
    }
    std::optional<std::int64_t> oldest_age;
    if (q->oldest_queued) oldest_age = (now - *q->oldest_queued) / k_micros_per_second;

    if (!options.json) {
        print_table(*q, *images, oldest_age);
        return exit_code::ok;
    }
    nlohmann::json by_attempts = nlohmann::json::array();
    for (const auto& a : q->by_attempts) by_attempts.push_back({{"attempts", a.attempts}, {"count", a.count}});
    nlohmann::json by_client = nlohmann::json::array();
    for (const auto& c : images->by_client) {
        by_client.push_back({{"client_id", c.client_id}, {"count", c.count}, {"total_size", c.total_size}});
    }
    print_json({{"queue",
                 {{"pending", q->pending},
                  {"dead", q->dead},
                  {"leased", q->leased},
                  {"due", q->due},
                  {"oldest_queued", optional_time(q->oldest_queued)},
                  {"newest_queued", optional_time(q->newest_queued)},
                  {"oldest_pending_age_seconds", oldest_age ? nlohmann::json(*oldest_age) : nullptr},
                  {"by_attempts", by_attempts},
                  {"bytes_pending", q->bytes_pending},
                  {"pending_unknown_size", q->pending_unknown_size},
                  {"bytes_dead", q->bytes_dead}}},
                {"images",
                 {{"total_images", images->total_images},
                  {"total_size", images->total_size},
                  {"unique_clients", images->unique_clients},
                  {"top_clients", by_client}}}});
    return exit_code::ok;
}

}  // namespace

void add_stats_command(CLI::App& app, Globals& globals, Command& selected) {
    auto options = std::make_shared<StatsOptions>();
    CLI::App* command = app.add_subcommand("stats", "Show deletion queue and image statistics");
    command->add_flag("--json", options->json, "Print one JSON object");
    command->add_option("--top", options->top, "How many clients to list (default 10)")->check(CLI::Range(0, 1000));
    command->callback([&globals, &selected, options] { selected = [&globals, options] { return run_stats(globals, *options); }; });
}

}  // namespace gallery::cli
