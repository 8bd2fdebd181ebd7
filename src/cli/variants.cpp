// gallery variants --missing: makes the configured variants that existing images do
// not have yet (an imported deployment, a variant added to the configuration), one
// image at a time in id order, so it is bounded (--limit), resumable (--after-id)
// and stops cleanly on SIGINT/SIGTERM between images.

#include <csignal>
#include <iostream>

#include "cli/commands.hpp"
#include "gallery/api/variant_maker.hpp"
#include "gallery/catalog/catalog.hpp"
#include "gallery/common/text.hpp"
#include "gallery/common/variant_key.hpp"
#include "gallery/storage/factory.hpp"

namespace gallery::cli {
namespace {

struct VariantsOptions {
    bool missing = false;
    catalog::ImageId after_id = 0;
    std::optional<std::int64_t> limit;  // variants made at most
    bool json = false;
};

volatile std::sig_atomic_t g_stop_requested = 0;

void request_stop(int) {
    g_stop_requested = 1;
}

struct Tally {
    std::int64_t images = 0;
    std::int64_t made = 0;
    std::int64_t present = 0;
    std::int64_t failed = 0;
    std::uint64_t bytes = 0;
    std::string first_failure;
    catalog::ImageId last_id = 0;
};

enum class Outcome { made, present, failed, stop };

// One variant of one image; storage and database errors stop the run (`stopped`).
Outcome make_one(db::Connection& connection, storage::Storage& storage,
                 const config::Config& config, imaging::EncodeAdmission& admission,
                 const catalog::KeyedImage& image, const config::VariantSpec& variant, Tally& tally,
                 std::optional<Error>& stopped) {
    const std::string key = variant_key(variant.name, image.storage_key, config.variant_format);
    auto there = storage.head(key);
    if (!there) {
        stopped = there.error();
        return Outcome::stop;
    }
    if (*there) return Outcome::present;
    auto stored = api::store_variant(
        storage, config, admission,
        {key, image.storage_key, variant, std::chrono::steady_clock::now()},
        [&]() -> db::Connection& { return connection; }, system_clock());
    if (stored) {
        tally.bytes += *stored;
        return Outcome::made;
    }
    // The image itself is at fault (gone meanwhile, missing file, undecodable): counted.
    const ErrorKind kind = stored.error().kind;
    if (kind == ErrorKind::invalid_input || kind == ErrorKind::not_found) {
        if (tally.first_failure.empty())
            tally.first_failure = printable(image.storage_key) + ": " + stored.error().message;
        return Outcome::failed;
    }
    stopped = stored.error();
    return Outcome::stop;
}

Result<void> run_variants(const Globals& globals, const VariantsOptions& options) {
    const config::Config config = load_config(globals);
    if (config.variants.empty()) {
        return fail(ErrorKind::invalid_input,
                    "no variants are configured (variants = \"\"): nothing to make");
    }
    db::Connection connection = open_database(config);
    const std::unique_ptr<storage::Storage> storage = storage::open_storage(config);
    // One variant at a time: a command beside serve takes one core, not all of them.
    imaging::EncodeAdmission admission({.slots = 1, .queue = 0, .memory_bytes = ~0ULL});
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
    const bool progress = stderr_is_terminal() && !options.json;
    Tally tally;
    tally.last_id = options.after_id;
    std::optional<Error> stopped;
    bool done = false;
    while (!done && !stopped) {
        auto page = catalog::image_keys_after(connection, tally.last_id, 500);
        if (!page) return std::unexpected(page.error());
        if (page->empty()) break;
        for (const catalog::KeyedImage& image : *page) {
            if (g_stop_requested || (options.limit && tally.made >= *options.limit)) {
                done = true;
                break;
            }
            for (const config::VariantSpec& variant : config.variants) {
                switch (make_one(connection, *storage, config, admission, image, variant, tally,
                                 stopped)) {
                    case Outcome::made:
                        ++tally.made;
                        break;
                    case Outcome::present:
                        ++tally.present;
                        break;
                    case Outcome::failed:
                        ++tally.failed;
                        break;
                    case Outcome::stop:
                        break;
                }
                if (stopped) break;
            }
            if (stopped) break;
            ++tally.images;
            tally.last_id = image.id;
            if (progress)
                std::cerr << "\rimages " << tally.images << ", variants made " << tally.made
                          << "   " << std::flush;
        }
    }
    if (progress && tally.images > 0) std::cerr << "\n";
    if (options.json) {
        nlohmann::json out{{"success", !stopped},     {"images", tally.images},
                           {"made", tally.made},      {"already_there", tally.present},
                           {"failed", tally.failed},  {"bytes", tally.bytes},
                           {"last_id", tally.last_id}};
        if (!tally.first_failure.empty()) out["first_failure"] = tally.first_failure;
        if (stopped) out["error"] = stopped->message;
        print_json(out);
    } else {
        std::cout << "checked " << tally.images << " image" << (tally.images == 1 ? "" : "s")
                  << ": made " << tally.made << " variant" << (tally.made == 1 ? "" : "s") << " ("
                  << format_bytes(tally.bytes) << "), " << tally.present << " already there, "
                  << tally.failed << " could not be made\n";
        if (!tally.first_failure.empty())
            std::cout << "first that could not be made: " << tally.first_failure << "\n";
        if (done || stopped) std::cout << "resume with --after-id " << tally.last_id << "\n";
    }
    if (stopped) {
        Error error = with_context("variants", *stopped);
        error.message += "\nresume with --after-id " + std::to_string(tally.last_id);
        return std::unexpected(error);
    }
    return {};
}

}  // namespace

void add_variants_command(CLI::App& app, Globals& globals, Command& selected) {
    auto options = std::make_shared<VariantsOptions>();
    CLI::App* command = app.add_subcommand(
        "variants", "Make the configured variants (thumbnails) that existing images lack");
    command->footer(
        "Examples:\n  gallery variants --missing\n  gallery variants --missing --limit 1000\n"
        "  gallery variants --missing --after-id 52000   # resume where a run stopped");
    command
        ->add_flag("--missing", options->missing,
                   "Make every configured variant that is not stored yet")
        ->required();
    command->add_option("--after-id", options->after_id, "Start after this image id")
        ->check(CLI::NonNegativeNumber);
    command
        ->add_option("--limit", options->limit,
                     "Stop once this many variants were made (after the image that reaches it)")
        ->check(CLI::PositiveNumber);
    command->add_flag("--json", options->json, "Print one JSON object");
    command->callback([&globals, &selected, options] {
        selected = [&globals, options] { return run_variants(globals, *options); };
    });
}

}  // namespace gallery::cli
